// What an attempt's result means for its delivery. Pure: the dispatcher records whatever this decides.
import { nextRetryAt } from './retry-schedule.ts'

/** What one POST to the receiver gave: a status code, or an error before any response. */
export type AttemptResult = { statusCode: number } | { error: string }

export type DeliveryDecision =
  /** 2xx: done. */
  | { kind: 'delivered' }
  /** Try again at this unix time. */
  | { kind: 'retry'; at: number }
  /** The 72-hour window is over. */
  | { kind: 'give_up' }
  /** 410 Gone: the receiver asks never to be called again; the endpoint is disabled. */
  | { kind: 'endpoint_gone' }

export function decideAfterAttempt(opts: { result: AttemptResult; attemptsMade: number; createdAt: number; now: number; random: number }): DeliveryDecision {
  const { result } = opts
  if ('statusCode' in result) {
    if (result.statusCode >= 200 && result.statusCode < 300) return { kind: 'delivered' }
    if (result.statusCode === 410) return { kind: 'endpoint_gone' }
  }
  // Everything else — 3xx (redirects are not followed), 4xx, 5xx, timeouts, refused addresses — is retried.
  const at = nextRetryAt(opts)
  return at === null ? { kind: 'give_up' } : { kind: 'retry', at }
}

// Delivers the outbox, at least once. Each pass:
//   1. claims due deliveries in a short transaction with FOR UPDATE SKIP LOCKED (so several replicas never
//      take the same row), counts the attempt, records it as `sending`, and pushes `next_attempt_at` to the
//      end of a lease — if this process dies mid-attempt, another dispatcher retries once the lease is over;
//   2. POSTs each one (no transaction held open during the network call);
//   3. records the outcome: delivered, retry later, give up after 72 hours, or 410 Gone → endpoint disabled.
// The clock and the randomness are injected, so tests step through retries without waiting for them.
import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Db } from '../db/database.ts'
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from '../db/schema/index.ts'
import { decideAfterAttempt, type DeliveryDecision } from './attempt-outcome.ts'
import { attemptDelivery, type DeliveryTarget, type DeliveryTransport } from './deliver.ts'
import type { SendResult } from './sender.ts'
import { startLoop } from '../lib/loop.ts'

export interface DispatcherDeps extends DeliveryTransport {
  db: Db
  log: Logger
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number
  /** A number in [0, 1) for the retry jitter; Math.random by default. */
  random?: () => number
  /** Deliveries claimed, and sent concurrently, per pass. */
  batchSize?: number
  /** Told about every recorded attempt (metrics): its outcome and the seconds since the event was created. */
  onAttempt?: (attempt: { outcome: DeliveryDecision['kind']; secondsSinceEvent: number }) => void
}

interface Claim extends DeliveryTarget {
  attemptId: number
  attempt: number
  /** When the attempt was claimed: its recorded start and its `webhook-timestamp`. */
  startedAt: number
  createdAt: number
  endpointId: string
}

const DEFAULT_BATCH_SIZE = 16

/** How long a claimed delivery stays invisible to other dispatchers: the attempt's deadline plus a margin. */
export function leaseSeconds(timeoutMs: number): number {
  return Math.ceil(timeoutMs / 1000) + 30
}

/** One pass: attempts every delivery due now (up to the batch size). Returns how many were attempted. */
export async function dispatchDueWebhooks(deps: DispatcherDeps): Promise<number> {
  const claims = await claimDue(deps)
  // allSettled: one failed record (database gone) must not stop waiting for the others; its lease
  // runs out and the delivery is attempted again.
  const settled = await Promise.allSettled(claims.map((claim) => attemptAndRecord(deps, claim)))
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  return claims.length
}

async function claimDue(deps: DispatcherDeps): Promise<Claim[]> {
  const now = nowSeconds(deps)
  const d = webhookDeliveries
  return deps.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: d.id, attempts: d.attempts })
      .from(d)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, d.endpointId))
      .where(and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now), eq(webhookEndpoints.status, 'enabled')))
      .orderBy(asc(d.nextAttemptAt))
      .limit(deps.batchSize ?? DEFAULT_BATCH_SIZE)
      .for('update', { of: d, skipLocked: true })
    if (due.length === 0) return []
    const ids = due.map((row) => row.id)
    await tx
      .update(d)
      .set({ attempts: sql`${d.attempts} + 1`, nextAttemptAt: now + leaseSeconds(deps.timeoutMs) })
      .where(inArray(d.id, ids))
    const attempts = await tx
      .insert(webhookAttempts)
      .values(due.map((row) => ({ deliveryId: row.id, attempt: row.attempts + 1, startedAt: now, status: 'sending' })))
      .returning({ id: webhookAttempts.id, deliveryId: webhookAttempts.deliveryId, attempt: webhookAttempts.attempt })
    const targets = await tx
      .select({
        deliveryId: d.id,
        createdAt: d.createdAt,
        endpointId: d.endpointId,
        body: webhookEvents.body,
        url: webhookEndpoints.url,
        secret: webhookEndpoints.secret,
        previousSecret: webhookEndpoints.previousSecret,
        previousSecretExpiresAt: webhookEndpoints.previousSecretExpiresAt,
      })
      .from(d)
      .innerJoin(webhookEvents, eq(webhookEvents.id, d.eventId))
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, d.endpointId))
      .where(inArray(d.id, ids))
    const byDelivery = new Map(attempts.map((a) => [a.deliveryId, a]))
    return targets.map((target) => {
      const attempt = byDelivery.get(target.deliveryId)!
      return { ...target, attemptId: attempt.id, attempt: attempt.attempt, startedAt: now }
    })
  })
}

async function attemptAndRecord(deps: DispatcherDeps, claim: Claim): Promise<void> {
  const result = await attemptDelivery(deps, claim, claim.startedAt)
  const now = nowSeconds(deps)
  const decision = decideAfterAttempt({ result, attemptsMade: claim.attempt, createdAt: claim.createdAt, now, random: (deps.random ?? Math.random)() })
  await recordOutcome(deps.db, claim, result, decision, now)
  deps.onAttempt?.({ outcome: decision.kind, secondsSinceEvent: (deps.now ?? Date.now)() / 1000 - claim.createdAt })
  const outcome = 'statusCode' in result ? { statusCode: result.statusCode } : { error: result.error }
  const log = { deliveryId: claim.deliveryId, endpointId: claim.endpointId, attempt: claim.attempt, ...outcome, decision: decision.kind }
  if (decision.kind === 'delivered' || decision.kind === 'retry') deps.log.debug(log, 'webhook attempt')
  else deps.log.warn(log, decision.kind === 'give_up' ? 'webhook delivery given up after 72 hours' : 'webhook endpoint answered 410 Gone: disabled')
}

async function recordOutcome(db: Db, claim: Claim, result: SendResult, decision: DeliveryDecision, now: number): Promise<void> {
  const d = webhookDeliveries
  await db.transaction(async (tx) => {
    await tx
      .update(webhookAttempts)
      .set({
        status: decision.kind === 'delivered' ? 'succeeded' : 'failed',
        responseStatus: 'statusCode' in result ? result.statusCode : null,
        responseExcerpt: result.responseExcerpt,
        error: 'error' in result ? result.error : null,
        durationMs: result.durationMs,
      })
      .where(eq(webhookAttempts.id, claim.attemptId))
    // A delivery still pending and not claimed again since (its lease may have run out meanwhile).
    const stillOurs = and(eq(d.id, claim.deliveryId), eq(d.status, 'pending'), eq(d.attempts, claim.attempt))
    switch (decision.kind) {
      case 'delivered':
        // Whoever else holds it now would only send a duplicate: delivered wins over any later claim.
        await tx
          .update(d)
          .set({ status: 'delivered', finishedAt: now })
          .where(and(eq(d.id, claim.deliveryId), eq(d.status, 'pending')))
        return
      case 'retry':
        await tx.update(d).set({ nextAttemptAt: decision.at }).where(stillOurs)
        return
      case 'give_up':
        await tx.update(d).set({ status: 'failed', finishedAt: now }).where(stillOurs)
        return
      case 'endpoint_gone':
        await tx.update(d).set({ status: 'failed', finishedAt: now }).where(stillOurs)
        await tx
          .update(webhookEndpoints)
          .set({ status: 'disabled', disabledReason: `the receiver answered 410 Gone at ${new Date(now * 1000).toISOString()}` })
          .where(eq(webhookEndpoints.id, claim.endpointId))
        return
    }
  })
}

function nowSeconds(deps: { now?: () => number }): number {
  return Math.floor((deps.now ?? Date.now)() / 1000)
}

export interface WebhookDispatcher {
  /** Runs a pass now instead of at the next poll (e.g. right after an event was enqueued in this process). */
  wake(): void
  /** Stops polling and waits for the attempts in flight to be recorded. */
  stop(): Promise<void>
}

/**
 * Polls for due deliveries every `pollMs` until stopped. Run it in every API or worker replica:
 * SKIP LOCKED shares the work between them.
 */
export function startWebhookDispatcher(deps: DispatcherDeps & { pollMs: number }): WebhookDispatcher {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE
  return startLoop({
    everyMs: deps.pollMs,
    // A full batch means more may be due: keep going before sleeping.
    pass: async (signal) => {
      while (!signal.aborted && (await dispatchDueWebhooks(deps)) >= batchSize) {}
    },
    onError: (err) => deps.log.error({ err }, 'webhook dispatcher pass failed'),
  })
}

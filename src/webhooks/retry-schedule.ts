// When to try a failed delivery again. Pure: the caller passes the clock and the randomness.
//
// The delays follow Svix's published schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h), each
// stretched or shrunk by up to 20 % at random so that deliveries failed by one outage do not all come
// back at the same second. Retries stop 72 hours after the event was created; the last one is moved
// forward to land exactly on that deadline rather than being dropped.

/** Delay before the retry that follows the n-th failed attempt (n = 1, 2, …); the last entry repeats. */
export const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600] as const

/** How long after its event a delivery is still attempted. */
export const DELIVERY_WINDOW_SECONDS = 72 * 3600

/** ±20 %: the spread of each delay. */
export const JITTER_FRACTION = 0.2

/**
 * The unix time (seconds) of the next attempt after `attemptsMade` failed attempts, or null when the
 * 72-hour window is over and the delivery should be given up. `random` is a number in [0, 1).
 */
export function nextRetryAt(opts: { attemptsMade: number; createdAt: number; now: number; random: number }): number | null {
  const deadline = opts.createdAt + DELIVERY_WINDOW_SECONDS
  if (opts.now >= deadline) return null
  const index = Math.min(Math.max(opts.attemptsMade, 1), RETRY_DELAYS_SECONDS.length) - 1
  const base = RETRY_DELAYS_SECONDS[index]
  const factor = 1 - JITTER_FRACTION + 2 * JITTER_FRACTION * opts.random
  const at = opts.now + Math.max(1, Math.round(base * factor))
  return Math.min(at, deadline)
}

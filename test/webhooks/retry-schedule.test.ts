// The retry schedule and the decision after each attempt: pure functions, no clock.
import t from 'tap'
import { decideAfterAttempt } from '../../src/webhooks/attempt-outcome.ts'
import { DELIVERY_WINDOW_SECONDS, nextRetryAt, RETRY_DELAYS_SECONDS } from '../../src/webhooks/retry-schedule.ts'

const T0 = 1_800_000_000

t.test('without jitter (random = 0.5) the delays are 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h', async (t) => {
  t.same([...RETRY_DELAYS_SECONDS], [5, 300, 1800, 7200, 18000, 36000])
  const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => nextRetryAt({ attemptsMade: n, createdAt: T0, now: T0, random: 0.5 })! - T0)
  t.same(delays, [5, 300, 1800, 7200, 18000, 36000, 36000, 36000])
})

t.test('jitter spreads each delay by at most ±20 %', async (t) => {
  const at = (random: number) => nextRetryAt({ attemptsMade: 4, createdAt: T0, now: T0, random })! - T0
  t.equal(at(0), 5760)
  t.equal(at(0.999999), 8640)
  const seen = new Set(Array.from({ length: 50 }, () => at(Math.random())))
  t.ok(seen.size > 10, 'random draws give different times')
  for (const s of seen) t.ok(s >= 5760 && s <= 8640)
})

t.test('retries stop 72 hours after the event; the last one lands on the deadline', async (t) => {
  const deadline = T0 + DELIVERY_WINDOW_SECONDS
  const times = [T0]
  for (let n = 1; ; n++) {
    const next = nextRetryAt({ attemptsMade: n, createdAt: T0, now: times.at(-1)!, random: 0.5 })
    if (next === null) break
    times.push(next)
  }
  t.equal(times.length, 13, '13 attempts in 72 hours')
  t.equal(times.at(-1), deadline)
  t.equal(times.at(-2), T0 + 243305, 'the one before is on the regular schedule')
  t.ok(times.every((x, i) => i === 0 || x > times[i - 1]), 'strictly increasing')
  t.equal(nextRetryAt({ attemptsMade: 1, createdAt: T0, now: deadline + 1, random: 0.5 }), null)
})

t.test('decision after an attempt', async (t) => {
  const base = { attemptsMade: 1, createdAt: T0, now: T0, random: 0.5 }
  for (const statusCode of [200, 201, 204, 299]) t.same(decideAfterAttempt({ ...base, result: { statusCode } }), { kind: 'delivered' }, `${statusCode}`)
  t.same(decideAfterAttempt({ ...base, result: { statusCode: 410 } }), { kind: 'endpoint_gone' })
  for (const statusCode of [301, 400, 404, 429, 500, 503]) {
    t.same(decideAfterAttempt({ ...base, result: { statusCode } }), { kind: 'retry', at: T0 + 5 }, `${statusCode} is retried`)
  }
  t.same(decideAfterAttempt({ ...base, result: { error: 'timed out' } }), { kind: 'retry', at: T0 + 5 })
  t.same(decideAfterAttempt({ ...base, now: T0 + DELIVERY_WINDOW_SECONDS, result: { statusCode: 500 } }), { kind: 'give_up' })
  t.same(decideAfterAttempt({ ...base, now: T0 + DELIVERY_WINDOW_SECONDS, result: { statusCode: 200 } }), { kind: 'delivered' }, 'a late success still counts')
})

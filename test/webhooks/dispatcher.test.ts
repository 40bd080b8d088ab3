// The outbox and the dispatcher against a real database and a real HTTP receiver on loopback. The
// dispatcher's clock is a variable the test moves forward, so retries hours apart run in milliseconds.
import { asc, eq } from 'drizzle-orm'
import OpenAI from 'openai'
import pino from 'pino'
import t, { type Test } from 'tap'
import type { Db } from '../../src/db/database.ts'
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from '../../src/db/schema/index.ts'
import { ensureProject } from '../../src/services/projects.ts'
import { dispatchDueWebhooks, leaseSeconds, startWebhookDispatcher, type DispatcherDeps } from '../../src/webhooks/dispatcher.ts'
import { createWebhookEndpoint, rotateWebhookSecret, updateWebhookEndpoint } from '../../src/webhooks/endpoints.ts'
import type { WebhookEventType } from '../../src/webhooks/event-types.ts'
import { enqueueWebhookEvent } from '../../src/webhooks/outbox.ts'
import type { Resolver } from '../../src/webhooks/url-guard.ts'
import { assertSpec } from '../helpers/openai-spec.ts'
import { openTestDatabase, testDriver } from '../helpers/test-database.ts'
import { startReceiver, type ReceivedWebhook } from './receiver.ts'

const sdk = new OpenAI({ apiKey: 'sk-unused', baseURL: 'http://127.0.0.1:9/v1' })
const log = pino({ level: 'silent' })
const LOOPBACK = ['127.0.0.1']

// One database for the file (opening one is slow); each test starts from empty webhook tables, since
// the dispatcher claims due deliveries of every project.
const database = await openTestDatabase(t)

async function setup(_t: Test, opts: { clockMs?: number; timeoutMs?: number; allowHosts?: string[]; resolve?: Resolver } = {}) {
  const db = database.db
  await db.delete(webhookEvents)
  await db.delete(webhookEndpoints)
  const project = await ensureProject(db, 'alpha')
  const clock = { ms: opts.clockMs ?? Date.now() }
  const deps: DispatcherDeps = {
    db,
    log,
    allowHosts: opts.allowHosts ?? LOOPBACK,
    timeoutMs: opts.timeoutMs ?? 2000,
    resolve: opts.resolve,
    now: () => clock.ms,
    random: () => 0.5,
  }
  const nowSeconds = () => Math.floor(clock.ms / 1000)
  const endpoint = (url: string, eventTypes: string[] = ['fine_tuning.job.succeeded'], projectId = project.id) =>
    createWebhookEndpoint({ db, allowHosts: opts.allowHosts ?? LOOPBACK, resolve: opts.resolve }, projectId, { name: 'test', url, event_types: eventTypes })
  const enqueue = (jobId: string, type: WebhookEventType = 'fine_tuning.job.succeeded', projectId = project.id) =>
    db.transaction((tx) => enqueueWebhookEvent(tx, { projectId, type, data: { id: jobId }, createdAt: nowSeconds() }))
  return { db, project, clock, deps, nowSeconds, endpoint, enqueue }
}

async function deliveriesOf(db: Db, eventId: string) {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.eventId, eventId))
}

async function attemptsOf(db: Db, deliveryId: string) {
  return db.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, deliveryId)).orderBy(asc(webhookAttempts.attempt))
}

const unwrap = (hook: ReceivedWebhook, secret: string) => sdk.webhooks.unwrap(hook.body, hook.headers, secret)

t.test('a receiver that fails the first attempts still gets the webhook: same id, fresh timestamp, verifiable', async (t) => {
  // The clock starts 200 s in the past, so the third attempt (305 s later) is still within the SDK's 5-minute tolerance.
  const { db, clock, deps, enqueue, endpoint } = await setup(t, { clockMs: Date.now() - 200_000 })
  const receiver = await startReceiver(t, (n) => (n === 1 ? 500 : n === 2 ? 503 : 200))
  const ep = await endpoint(receiver.url)
  const t0 = Math.floor(clock.ms / 1000)
  const eventId = await enqueue('ftjob-abc')
  const [delivery] = await deliveriesOf(db, eventId)

  t.equal(await dispatchDueWebhooks(deps), 1, 'first attempt at once')
  t.equal(await dispatchDueWebhooks(deps), 0, 'the retry is not due yet')
  clock.ms += 5_000
  t.equal(await dispatchDueWebhooks(deps), 1, 'second attempt 5 s later')
  clock.ms += 299_000
  t.equal(await dispatchDueWebhooks(deps), 0, 'third not due after 299 s')
  clock.ms += 1_000
  t.equal(await dispatchDueWebhooks(deps), 1, 'third attempt 5 min after the second')
  clock.ms += 3_600_000
  t.equal(await dispatchDueWebhooks(deps), 0, 'nothing more once delivered')

  t.equal(receiver.received.length, 3)
  const ids = receiver.received.map((r) => r.headers['webhook-id'])
  t.same(ids, [delivery.id, delivery.id, delivery.id], 'the same webhook-id on every attempt')
  t.match(delivery.id, /^wh_/)
  t.same(
    receiver.received.map((r) => Number(r.headers['webhook-timestamp'])),
    [t0, t0 + 5, t0 + 305],
    'a fresh timestamp on each attempt',
  )
  t.ok(receiver.received.every((r) => r.body === receiver.received[0].body), 'the same body on every attempt')
  for (const hook of receiver.received) {
    const event = await unwrap(hook, ep.secret)
    t.match(event, { id: eventId, object: 'event', type: 'fine_tuning.job.succeeded', created_at: t0, data: { id: 'ftjob-abc' } })
  }
  const body = JSON.parse(receiver.received[2].body)
  assertSpec(t, 'WebhookFineTuningJobSucceeded', body)
  t.same(Object.keys(body), ['id', 'object', 'type', 'created_at', 'data'], "OpenAI's thin payload, nothing more")
  t.equal(receiver.received[0].headers['content-type'], 'application/json')

  const [after] = await deliveriesOf(db, eventId)
  t.match(after, { status: 'delivered', attempts: 3, finishedAt: t0 + 305 })
  const attempts = await attemptsOf(db, delivery.id)
  t.match(
    attempts.map((a) => ({ attempt: a.attempt, status: a.status, responseStatus: a.responseStatus, startedAt: a.startedAt, responseExcerpt: a.responseExcerpt, error: a.error })),
    [
      { attempt: 1, status: 'failed', responseStatus: 500, startedAt: t0, responseExcerpt: 'answer 500', error: null },
      { attempt: 2, status: 'failed', responseStatus: 503, startedAt: t0 + 5 },
      { attempt: 3, status: 'succeeded', responseStatus: 200, startedAt: t0 + 305 },
    ],
    'every attempt recorded',
  )
  t.ok(attempts.every((a) => typeof a.durationMs === 'number' && a.durationMs >= 0), 'with its duration')
})

t.test('410 Gone disables the endpoint and stops its deliveries', async (t) => {
  const { db, clock, deps, enqueue, endpoint } = await setup(t)
  const receiver = await startReceiver(t, (n) => (n === 1 ? 410 : 200))
  const ep = await endpoint(receiver.url)
  const first = await enqueue('ftjob-1')
  t.equal(await dispatchDueWebhooks(deps), 1)
  const [delivery] = await deliveriesOf(db, first)
  t.match(delivery, { status: 'failed', attempts: 1 })
  const [disabled] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, ep.id))
  t.match(disabled, { status: 'disabled', disabledReason: /410 Gone/ })
  t.match(await attemptsOf(db, delivery.id), [{ status: 'failed', responseStatus: 410 }])

  const second = await enqueue('ftjob-2')
  t.same(await deliveriesOf(db, second), [], 'a disabled endpoint gets no new deliveries')
  clock.ms += 3_600_000
  t.equal(await dispatchDueWebhooks(deps), 0)
  t.equal(receiver.received.length, 1)

  await updateWebhookEndpoint({ db, allowHosts: LOOPBACK }, ep.projectId, ep.id, { status: 'enabled' })
  const third = await enqueue('ftjob-3')
  t.equal(await dispatchDueWebhooks(deps), 1, 're-enabled: deliveries resume')
  t.match(await deliveriesOf(db, third), [{ status: 'delivered' }])
})

t.test('a delivery is given up 72 hours after its event, every attempt recorded', async (t) => {
  const { db, clock, deps, enqueue, endpoint, nowSeconds } = await setup(t)
  const receiver = await startReceiver(t, () => 500)
  await endpoint(receiver.url)
  const t0 = nowSeconds()
  const eventId = await enqueue('ftjob-x')
  const [{ id }] = await deliveriesOf(db, eventId)
  for (let guard = 0; guard < 50; guard++) {
    await dispatchDueWebhooks(deps)
    const [d] = await deliveriesOf(db, eventId)
    if (d.status !== 'pending') break
    clock.ms = d.nextAttemptAt * 1000
  }
  const [final] = await deliveriesOf(db, eventId)
  t.match(final, { status: 'failed', attempts: 13, finishedAt: t0 + 72 * 3600 })
  const attempts = await attemptsOf(db, id)
  t.equal(attempts.length, 13)
  t.equal(receiver.received.length, 13)
  t.ok(attempts.every((a) => a.status === 'failed' && a.responseStatus === 500))
  t.same(
    attempts.map((a) => a.startedAt - t0),
    [0, 5, 305, 2105, 9305, 27305, 63305, 99305, 135305, 171305, 207305, 243305, 259200],
    'Svix-like backoff, the last attempt on the 72-hour mark',
  )
})

t.test('an attempt that times out is recorded with its error and retried', async (t) => {
  const { db, deps, enqueue, endpoint, nowSeconds } = await setup(t, { timeoutMs: 200 })
  const receiver = await startReceiver(t, () => 'hang')
  await endpoint(receiver.url)
  const eventId = await enqueue('ftjob-slow')
  await dispatchDueWebhooks(deps)
  const [d] = await deliveriesOf(db, eventId)
  t.match(d, { status: 'pending', attempts: 1, nextAttemptAt: nowSeconds() + 5 })
  t.match(await attemptsOf(db, d.id), [{ status: 'failed', responseStatus: null, error: 'timed out after 200 ms' }])
})

t.test('rotation: while the old secret is kept, deliveries carry two signatures and both verify', async (t) => {
  const { db, deps, enqueue, endpoint } = await setup(t)
  const receiver = await startReceiver(t)
  const ep = await endpoint(receiver.url)
  const rotated = await rotateWebhookSecret({ db }, ep.projectId, ep.id, { keepOldFor24Hours: true })
  t.not(rotated.secret, ep.secret)
  await enqueue('ftjob-r1')
  await dispatchDueWebhooks(deps)
  const [kept] = receiver.received
  t.equal(kept.headers['webhook-signature'].split(' ').length, 2)
  await unwrap(kept, rotated.secret)
  await unwrap(kept, ep.secret)

  const again = await rotateWebhookSecret({ db }, ep.projectId, ep.id, { keepOldFor24Hours: false })
  await enqueue('ftjob-r2')
  await dispatchDueWebhooks(deps)
  const plain = receiver.received[1]
  t.equal(plain.headers['webhook-signature'].split(' ').length, 1, 'without keeping the old secret: one signature')
  await unwrap(plain, again.secret)
  await t.rejects(unwrap(plain, rotated.secret), 'the replaced secret no longer verifies')
})

t.test('at delivery time, addresses are checked again (DNS rebinding, allow list changed)', async (t) => {
  const receiver = await startReceiver(t)
  // The name resolved to a public address when the endpoint was saved, and resolves to loopback now.
  let answer = '93.184.215.14'
  const resolve: Resolver = async () => [{ address: answer, family: 4 }]
  const { db, deps, enqueue, endpoint } = await setup(t, { allowHosts: [], resolve })
  await endpoint(`http://hooks.example.test:${receiver.port}/hook`)
  answer = '127.0.0.1'
  const eventId = await enqueue('ftjob-rebind')
  t.equal(await dispatchDueWebhooks(deps), 1)
  const [d] = await deliveriesOf(db, eventId)
  t.match(await attemptsOf(db, d.id), [{ status: 'failed', responseStatus: null, error: /refused: .*127\.0\.0\.1.*loopback/ }])
  t.equal(d.status, 'pending', 'retried later, like any failure')
  t.equal(receiver.received.length, 0, 'nothing was sent')
})

t.test('at delivery time, loopback URLs saved under an older allow list are refused', async (t) => {
  const receiver = await startReceiver(t)
  const { db, deps, enqueue } = await setup(t, { allowHosts: [] })
  const project = await ensureProject(db, 'alpha')
  const urls = [`http://localhost:${receiver.port}/`, `http://[::1]:${receiver.port}/`, `http://[::ffff:127.0.0.1]:${receiver.port}/`, `http://127.0.0.1:${receiver.port}/`]
  for (const url of urls) {
    await createWebhookEndpoint({ db, allowHosts: ['localhost', '::1', '::ffff:7f00:1', '127.0.0.1'] }, project.id, { name: url, url, event_types: ['fine_tuning.job.failed'] })
  }
  const eventId = await enqueue('ftjob-ssrf', 'fine_tuning.job.failed')
  t.equal(await dispatchDueWebhooks(deps), 4)
  for (const d of await deliveriesOf(db, eventId)) {
    t.match(await attemptsOf(db, d.id), [{ status: 'failed', error: /^refused: / }])
  }
  t.equal(receiver.received.length, 0)
})

t.test('the outbox: written with the transaction, fanned out to subscribed enabled endpoints of the project', async (t) => {
  const { db, project, deps, enqueue, endpoint } = await setup(t)
  const receiver = await startReceiver(t)
  const subscribed = await endpoint(receiver.url, ['fine_tuning.job.succeeded', 'fine_tuning.job.failed'])
  await endpoint(receiver.url, ['fine_tuning.job.cancelled'])
  const disabled = await endpoint(receiver.url, ['fine_tuning.job.succeeded'])
  await updateWebhookEndpoint({ db, allowHosts: LOOPBACK }, project.id, disabled.id, { status: 'disabled' })
  const other = await ensureProject(db, 'beta')
  await endpoint(receiver.url, ['fine_tuning.job.succeeded'], other.id)

  await t.rejects(
    db.transaction(async (tx) => {
      await enqueueWebhookEvent(tx, { projectId: project.id, type: 'fine_tuning.job.succeeded', data: { id: 'ftjob-rolled-back' } })
      throw new Error('the job update failed')
    }),
    /job update failed/,
  )
  t.same(await db.select().from(webhookEvents), [], 'a rolled-back transaction leaves no event')
  t.same(await db.select().from(webhookDeliveries), [], 'and no delivery')

  const eventId = await enqueue('ftjob-ok')
  t.match(eventId, /^evt_/)
  const deliveries = await deliveriesOf(db, eventId)
  t.same(
    deliveries.map((d) => d.endpointId),
    [subscribed.id],
    'only the enabled endpoint of this project subscribed to the type',
  )
  await dispatchDueWebhooks(deps)
  t.equal(receiver.received.length, 1)
})

// PGlite is one connection: the two dispatchers' transactions cannot interleave, so this could not fail there.
t.test(
  'two dispatchers running at once deliver each delivery once (FOR UPDATE SKIP LOCKED)',
  { skip: testDriver() === 'pglite' ? 'needs a second connection: run with SKILLET_TEST_DB=postgres' : false },
  async (t) => {
    const { db, deps, enqueue, endpoint } = await setup(t)
    // A short delay per answer keeps both dispatchers' passes overlapping.
    const receiver = await startReceiver(t, () => 200)
    await endpoint(receiver.url)
    const events = await Promise.all(Array.from({ length: 30 }, (_, i) => enqueue(`ftjob-${i}`)))
    const drain = async (d: DispatcherDeps) => {
      let total = 0
      for (let n = await dispatchDueWebhooks(d); n > 0; n = await dispatchDueWebhooks(d)) total += n
      return total
    }
    const [a, b] = await Promise.all([drain({ ...deps, batchSize: 3 }), drain({ ...deps, batchSize: 3 })])
    t.equal(a + b, 30, `30 attempts in all (${a} + ${b})`)
    t.ok(a > 0 && b > 0, 'both dispatchers did some of the work')
    const ids = receiver.received.map((r) => r.headers['webhook-id'])
    t.equal(ids.length, 30)
    t.equal(new Set(ids).size, 30, 'no webhook-id was sent twice')
    const attempts = await db.select().from(webhookAttempts)
    t.equal(attempts.length, 30, 'one recorded attempt per delivery')
    const deliveries = await db.select().from(webhookDeliveries)
    t.ok(deliveries.every((d) => d.status === 'delivered' && d.attempts === 1))
    t.equal(new Set(deliveries.map((d) => d.eventId)).size, events.length)
  },
)

t.test(
  'a delivery locked by another transaction is skipped, not waited for',
  { skip: testDriver() === 'pglite' ? 'needs a second connection: run with SKILLET_TEST_DB=postgres' : false },
  async (t) => {
    const { db, deps, enqueue, endpoint } = await setup(t)
    const receiver = await startReceiver(t)
    await endpoint(receiver.url)
    const events = [await enqueue('ftjob-a'), await enqueue('ftjob-b'), await enqueue('ftjob-c')]
    const [lockedDelivery] = await deliveriesOf(db, events[0])
    // Another dispatcher's claim transaction, still open, holds the row lock on one delivery.
    let release!: () => void
    let signalLocked!: () => void
    const locked = new Promise<void>((resolve) => (signalLocked = resolve))
    const holder = db.transaction(async (tx) => {
      await tx.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.id, lockedDelivery.id)).for('update')
      signalLocked()
      await new Promise<void>((resolve) => (release = resolve))
    })
    await locked
    const blocked = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5000).unref())
    t.equal(await Promise.race([dispatchDueWebhooks(deps), blocked]), 2, 'the two free deliveries go at once')
    t.notOk(
      receiver.received.some((r) => r.headers['webhook-id'] === lockedDelivery.id),
      'the locked one was not sent',
    )
    release()
    await holder
    t.equal(await dispatchDueWebhooks(deps), 1, 'once the lock is released, the last one goes')
    t.equal(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 3)
  },
)

t.test('a dispatcher that dies mid-attempt: another retries after the lease, and the late writer changes nothing', async (t) => {
  const { db, clock, deps, enqueue, endpoint } = await setup(t, { timeoutMs: 60_000 })
  const receiver = await startReceiver(t, (n) => (n === 1 ? 'hang' : 200))
  await endpoint(receiver.url)
  const eventId = await enqueue('ftjob-lease')
  // The first dispatcher starts an attempt that never returns (as if its process had stopped).
  const stuck = dispatchDueWebhooks(deps)
  await receiver.waitFor(1)
  t.equal(await dispatchDueWebhooks(deps), 0, 'while the lease lasts, nobody else takes it')
  clock.ms += leaseSeconds(60_000) * 1000
  t.equal(await dispatchDueWebhooks(deps), 1, 'after the lease another dispatcher retries')
  t.same(
    receiver.received.map((r) => r.headers['webhook-id']),
    [receiver.received[0].headers['webhook-id'], receiver.received[0].headers['webhook-id']],
  )
  const [d] = await deliveriesOf(db, eventId)
  t.match(d, { status: 'delivered', attempts: 2 })
  t.match(await attemptsOf(db, d.id), [{ attempt: 1, status: 'sending' }, { attempt: 2, status: 'succeeded' }])

  receiver.dropConnections()
  await stuck
  const [after] = await deliveriesOf(db, eventId)
  t.match(after, { status: 'delivered', attempts: 2 }, 'the first dispatcher, finishing late, does not undo the delivery')
  t.match(await attemptsOf(db, d.id), [{ attempt: 1, status: 'failed', error: /ECONNRESET|socket hang up/ }, { attempt: 2, status: 'succeeded' }])
})

t.test('startWebhookDispatcher polls, wakes on demand and stops cleanly', async (t) => {
  const { deps, enqueue, endpoint } = await setup(t)
  const receiver = await startReceiver(t)
  await endpoint(receiver.url)
  deps.now = Date.now
  const dispatcher = startWebhookDispatcher({ ...deps, pollMs: 60_000 })
  await new Promise((resolve) => setTimeout(resolve, 100))
  await enqueue('ftjob-woken')
  dispatcher.wake()
  await receiver.waitFor(1, 5000)
  await dispatcher.stop()
  t.equal(receiver.received.length, 1)

  const polling = startWebhookDispatcher({ ...deps, pollMs: 20 })
  await enqueue('ftjob-polled')
  await receiver.waitFor(2, 5000)
  await polling.stop()
  t.equal(receiver.received.length, 2)
})

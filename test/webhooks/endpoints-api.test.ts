// /v1/webhook_endpoints through the official openai SDK (`client.webhooks.*`) against a real API.
import { eq } from 'drizzle-orm'
import t from 'tap'
import { webhookAttempts, webhookDeliveries } from '../../src/db/schema/index.ts'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { startTestApp } from '../helpers/test-app.ts'
import { startReceiver } from './receiver.ts'

// One API for the whole file (opening a database is slow); loopback 127.0.0.1 is allowed, as in the
// deployment docs' test setup, and nothing else private is.
const api = await startTestApp(t, { env: { SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } })
const { client } = api

t.test('create, retrieve, list, update, rotate, delete — in the SDK shapes', async (t) => {
  const receiver = await startReceiver(t)
  const created = await client.webhooks.create({ name: 'jobs', url: receiver.url, event_types: ['fine_tuning.job.succeeded', 'fine_tuning.job.failed'] })
  t.match(created, {
    id: /^whe_/,
    object: 'webhook_endpoint',
    name: 'jobs',
    url: receiver.url,
    event_types: ['fine_tuning.job.succeeded', 'fine_tuning.job.failed'],
    signing_secret: /^whsec_[A-Za-z0-9+/]{43}=$/,
    status: 'enabled',
    disabled_reason: null,
  })
  t.equal(Buffer.from(created.signing_secret.slice(6), 'base64').length, 32, 'the secret is 32 random bytes')
  t.ok(created.signing_secret_hint?.endsWith(created.signing_secret.slice(-4)))
  t.equal(created.updated_at, created.created_at)

  const fetched = await client.webhooks.retrieve(created.id)
  t.notOk('signing_secret' in fetched, 'the secret is shown only at creation')
  const { signing_secret: _secret, ...withoutSecret } = created
  t.same(fetched, withoutSecret)

  const updated = await client.webhooks.update(created.id, { name: 'renamed', event_types: ['fine_tuning.job.cancelled'] })
  t.match(updated, { id: created.id, name: 'renamed', event_types: ['fine_tuning.job.cancelled'], url: receiver.url })
  t.notOk('signing_secret' in updated)
  t.same(await client.webhooks.update(created.id, {}), updated, 'an empty update changes nothing')

  const rotated = await client.webhooks.rotateSecret(created.id, { keep_old_secret_active_for_24_hours: true })
  t.match(rotated, { id: created.id, signing_secret: /^whsec_/ })
  t.not(rotated.signing_secret, created.signing_secret)
  t.not(rotated.signing_secret_hint, created.signing_secret_hint)
  const rotatedAgain = await client.webhooks.rotateSecret(created.id)
  t.not(rotatedAgain.signing_secret, rotated.signing_secret, 'rotation without a body works too')

  const deleted = await client.webhooks.delete(created.id)
  t.same(deleted, { id: created.id, object: 'webhook_endpoint.deleted', deleted: true })
  await assertApiError(t, client.webhooks.retrieve(created.id), { status: 404 })
  await assertApiError(t, client.webhooks.delete(created.id), { status: 404 })
})

t.test('list: newest first, cursor pagination the SDK follows', async (t) => {
  const receiver = await startReceiver(t)
  const client2 = await api.clientFor('lister')
  const ids: string[] = []
  for (let i = 0; i < 5; i++) ids.push((await client2.webhooks.create({ name: `e${i}`, url: receiver.url, event_types: ['fine_tuning.job.failed'] })).id)
  const page = await client2.webhooks.list({ limit: 2 })
  t.same(
    page.data.map((e) => e.id),
    [ids[4], ids[3]],
  )
  t.equal(page.has_more, true)
  const all: string[] = []
  for await (const endpoint of client2.webhooks.list({ limit: 2 })) all.push(endpoint.id)
  t.same(all, [...ids].reverse(), 'auto-pagination walks every page once')
  const raw = await client2.get('/webhook_endpoints', { query: { limit: 10 } })
  t.match(raw, { object: 'list', first_id: ids[4], last_id: ids[0], has_more: false })
  t.notOk(JSON.stringify(raw).includes('signing_secret"'), 'listings never carry the secret')
})

t.test('test: sends a signed sample event now and reports the status code', async (t) => {
  let status = 200
  const receiver = await startReceiver(t, () => status)
  const endpoint = await client.webhooks.create({ name: 'tester', url: receiver.url, event_types: ['fine_tuning.job.succeeded'] })
  const result = await client.webhooks.test(endpoint.id, { event_type: 'fine_tuning.job.failed' })
  t.same(result, { object: 'webhook_endpoint.test', webhook_endpoint_id: endpoint.id, event_type: 'fine_tuning.job.failed', status_code: 200, success: true, delivered: true, outcome: 'delivered' })
  t.equal(receiver.received.length, 1)
  const hook = receiver.received[0]
  const event = await client.webhooks.unwrap(hook.body, hook.headers, endpoint.signing_secret)
  t.match(event, { object: 'event', type: 'fine_tuning.job.failed', id: /^evt_/, data: { id: 'ftjob-test' } })
  assertSpec(t, 'WebhookFineTuningJobFailed', JSON.parse(hook.body))

  status = 500
  t.match(await client.webhooks.test(endpoint.id, { event_type: 'fine_tuning.job.succeeded' }), { status_code: 500, success: true, delivered: false, outcome: 'would_retry' })
  status = 410
  t.match(await client.webhooks.test(endpoint.id, { event_type: 'fine_tuning.job.succeeded' }), { status_code: 410, delivered: false, outcome: 'would_disable_endpoint' })
  t.match(await client.webhooks.retrieve(endpoint.id), { status: 'enabled' }, 'a 410 to a test does not disable the endpoint')
  status = 302
  t.match(await client.webhooks.test(endpoint.id, { event_type: 'fine_tuning.job.succeeded' }), { status_code: 302, delivered: false, outcome: 'would_retry' }, 'a redirect is not a delivery')

  const deliveries = await api.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id))
  t.same(deliveries.map((d) => d.status).sort(), ['delivered', 'failed', 'failed', 'failed'], 'test sends are recorded, never retried')
  const attempts = await api.database.db.select().from(webhookAttempts)
  t.same(
    attempts.filter((a) => deliveries.some((d) => d.id === a.deliveryId)).map((a) => a.responseStatus).sort(),
    [200, 302, 410, 500],
  )

  // Port 9 (discard): nothing listens there, so there is no status code to report.
  const gone = await client.webhooks.create({ name: 'closed', url: 'http://127.0.0.1:9/hook', event_types: ['fine_tuning.job.succeeded'] })
  await assertApiError(t, client.webhooks.test(gone.id, { event_type: 'fine_tuning.job.succeeded' }), {
    status: 400,
    error: { code: 'webhook_delivery_failed', message: /could not be delivered: ECONNREFUSED/ },
  })
})

t.test('SSRF: URLs that lead to private, loopback or link-local addresses are refused at create and update', async (t) => {
  const refused = [
    'http://localhost:8080/hook',
    'http://LOCALHOST./hook',
    'http://127.0.0.2/hook', // 127.0.0.1 is allowed, its neighbours are not
    'http://0x7f000002/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:a00:1]/hook',
    'http://10.0.0.5/hook',
    'http://192.168.1.20/hook',
    'http://172.20.0.1/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/hook',
    'http://[fd00::1]/hook',
    'http://0.0.0.0/hook',
  ]
  for (const url of refused) {
    await assertApiError(t, client.webhooks.create({ name: 'x', url, event_types: ['fine_tuning.job.succeeded'] }), {
      status: 400,
      error: { param: 'url', message: /Invalid value for 'url': the URL points to .*address/ },
    })
  }
  const ok = await client.webhooks.create({ name: 'public', url: 'https://93.184.215.14/hook', event_types: ['fine_tuning.job.succeeded'] })
  t.match(ok, { url: 'https://93.184.215.14/hook' }, 'a public address is accepted')
  await assertApiError(t, client.webhooks.update(ok.id, { url: 'http://169.254.169.254/' }), { status: 400, error: { param: 'url' } })
  t.match(await client.webhooks.retrieve(ok.id), { url: 'https://93.184.215.14/hook' }, 'a refused update changes nothing')
})

t.test('bad input: precise 400s', async (t) => {
  const url = 'http://127.0.0.1:9/hook'
  await assertApiError(t, client.webhooks.create({ name: 'x', url, event_types: ['batch.completed'] }), {
    status: 400,
    error: { param: 'event_types', message: /batch\.completed is not sent by this service/ },
  })
  await assertApiError(t, client.webhooks.create({ name: 'x', url, event_types: [] }), { status: 400, error: { param: 'event_types' } })
  await assertApiError(t, client.post('/webhook_endpoints', { body: { name: 'x', event_types: ['fine_tuning.job.failed'] } }), {
    status: 400,
    error: { param: 'url', message: "Missing required parameter: 'url'." },
  })
  await assertApiError(t, client.webhooks.create({ name: 'x', url: 'ftp://example.com/', event_types: ['fine_tuning.job.failed'] }), { status: 400, error: { param: 'url' } })
  const e = await client.webhooks.create({ name: 'x', url, event_types: ['fine_tuning.job.failed'] })
  await assertApiError(t, client.webhooks.test(e.id, { event_type: 'batch.completed' }), { status: 400, error: { param: 'event_type' } })
  await assertApiError(t, client.webhooks.list({ after: 'whe_nope' }), { status: 400, error: { param: 'after' } })
})

t.test('event types: the ones this service sends', async (t) => {
  t.same(await client.webhooks.eventTypes.list(), { object: 'list', data: ['fine_tuning.job.succeeded', 'fine_tuning.job.failed', 'fine_tuning.job.cancelled'] })
})

t.test('tenancy: another project cannot see or touch an endpoint (404, as for an unknown id)', async (t) => {
  const receiver = await startReceiver(t)
  const mine = await client.webhooks.create({ name: 'alpha-only', url: receiver.url, event_types: ['fine_tuning.job.succeeded'] })
  const beta = await api.clientFor('beta')
  const unknown = 'whe_doesnotexist000000000000'
  const sameAsUnknown = async (call: (id: string) => Promise<unknown>) => {
    const [a, b] = await Promise.all([call(mine.id).catch((e: unknown) => e), call(unknown).catch((e: unknown) => e)])
    t.match(a, { status: 404 })
    t.match(b, { status: 404 })
    const message = (e: unknown, id: string) => (e as { error: { message: string } }).error.message.replace(id, 'ID')
    t.equal(message(a, mine.id), message(b, unknown), 'the same answer as an unknown id')
  }
  await sameAsUnknown((id) => beta.webhooks.retrieve(id))
  await sameAsUnknown((id) => beta.webhooks.update(id, { name: 'stolen' }))
  await sameAsUnknown((id) => beta.webhooks.rotateSecret(id))
  await sameAsUnknown((id) => beta.webhooks.test(id, { event_type: 'fine_tuning.job.succeeded' }))
  await sameAsUnknown((id) => beta.webhooks.delete(id))
  t.notOk((await beta.webhooks.list()).data.some((e) => e.id === mine.id), "alpha's endpoint is not in beta's list")
  await assertApiError(t, beta.webhooks.list({ after: mine.id }), { status: 400, error: { param: 'after' } })
  t.match(await client.webhooks.retrieve(mine.id), { name: 'alpha-only' }, 'still there, unchanged')
  t.equal(receiver.received.length, 0, 'no test event was sent for beta')
})

t.test('the routes are in the OpenAPI document', async (t) => {
  const doc = (await (await fetch(api.baseURL.replace(/\/v1$/, '/openapi.json'))).json()) as { paths: Record<string, Record<string, unknown>> }
  t.ok(doc.paths['/v1/webhook_endpoints']?.post && doc.paths['/v1/webhook_endpoints']?.get)
  t.ok(doc.paths['/v1/webhook_endpoints/{webhook_endpoint_id}']?.delete)
  t.ok(doc.paths['/v1/webhook_endpoints/{webhook_endpoint_id}/rotate_secret']?.post)
  t.ok(doc.paths['/v1/webhook_endpoints/{webhook_endpoint_id}/test']?.post)
})

// GET /v1/webhook_endpoints/{id}/deliveries (Skillet extension): recent deliveries with what the
// receiver answered, for the dashboard and anyone debugging a receiver.
import t from 'tap'
import { assertApiError } from '../helpers/openai-spec.ts'
import { startTestApp } from '../helpers/test-app.ts'
import { startReceiver } from './receiver.ts'

const api = await startTestApp(t, { env: { SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } })
const { client } = api

interface Delivery { id: string; event_type: string; status: string; attempts: number; last_attempt: { status: string; response_status: number | null } | null }
type List = { object: 'list'; data: Delivery[] }

t.test('test events are listed newest first with the receiver\'s answer', async (t) => {
  const receiver = await startReceiver(t, (n) => (n === 1 ? 200 : 503))
  const endpoint = await client.webhooks.create({ name: 'd', url: receiver.url, event_types: ['fine_tuning.job.succeeded'] })
  t.same(await client.get<List>(`/webhook_endpoints/${endpoint.id}/deliveries`), { object: 'list', data: [] }, 'none yet')
  await client.post(`/webhook_endpoints/${endpoint.id}/test`, { body: { event_type: 'fine_tuning.job.succeeded' } })
  await client.post(`/webhook_endpoints/${endpoint.id}/test`, { body: { event_type: 'fine_tuning.job.failed' } }).catch(() => {})
  const list = await client.get<List>(`/webhook_endpoints/${endpoint.id}/deliveries`)
  t.equal(list.data.length, 2)
  t.match(list.data.find((d) => d.event_type === 'fine_tuning.job.succeeded'), { id: /^wh_/, status: 'delivered', attempts: 1, last_attempt: { status: 'succeeded', response_status: 200 } })
  t.match(list.data.find((d) => d.event_type === 'fine_tuning.job.failed'), { last_attempt: { response_status: 503 } })
  t.equal((await client.get<List>(`/webhook_endpoints/${endpoint.id}/deliveries`, { query: { limit: 1 } })).data.length, 1, 'limit')
  const other = await api.clientFor('other')
  await assertApiError(t, other.get(`/webhook_endpoints/${endpoint.id}/deliveries`), { status: 404, param: 'webhook_endpoint_id' })
})

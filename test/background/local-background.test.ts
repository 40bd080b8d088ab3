// The background composition with the default local executor, as the embedded server runs it: a job
// created with the openai SDK is trained by the scripted fake trainer (a child process), its
// succeeded webhook reaches a loopback receiver signed so that the SDK's webhooks.unwrap verifies it,
// and the Prometheus metrics — on their own port, and on the API port behind a bearer token — count
// what happened.
import fs from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import t from 'tap'
import { startBackground } from '../../src/background.ts'
import { startMetricsServer } from '../../src/metrics/metrics-server.ts'
import { SkilletMetrics } from '../../src/metrics/skillet-metrics.ts'
import { defaultCallbackUrl } from '../../src/running/start-scheduler.ts'
import { FAKE_TRAINER, TEST_BASE_MODEL, chatExample, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startTestApp, tmpDir } from '../helpers/test-app.ts'
import { startReceiver } from '../webhooks/receiver.ts'

const METRICS_TOKEN = 'metrics-token-for-the-test-0123'
const log = pino({ level: process.env.SKILLET_TEST_LOG ?? 'silent' })

/** The value of one sample in the Prometheus text format; undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

const scriptsDir = await tmpDir(t, 'skillet-fake-trainer-')
const metrics = new SkilletMetrics()
const ctx = await startTestApp(t, {
  metrics,
  env: {
    SKILLET_BASE_MODELS: `${TEST_BASE_MODEL}=/nonexistent/${TEST_BASE_MODEL}`,
    SKILLET_TRAINER_COMMAND: `${process.execPath} ${FAKE_TRAINER} --scripts ${scriptsDir}`,
    SKILLET_LOCAL_MAX_TRAINERS: '1',
    SKILLET_SCHEDULER_INTERVAL_MS: '100',
    SKILLET_WEBHOOK_POLL_MS: '50',
    SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    SKILLET_METRICS_TOKEN: METRICS_TOKEN,
  },
})
const apiPort = Number(new URL(ctx.baseURL).port)
const background = await startBackground(ctx.services, { log, callbackUrl: defaultCallbackUrl(ctx.config, apiPort), metrics })
t.teardown(() => background.stop())
const metricsServer = (await startMetricsServer(metrics, { host: '127.0.0.1', port: 0, log }))!
t.teardown(() => metricsServer.close())
const scrape = async () => {
  const res = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  return res.text()
}
const { client } = ctx
const examples = Array.from({ length: 10 }, (_, i) => chatExample(i))

t.test('local executor: a job succeeds and its webhook arrives, verifiable with the SDK', async (t) => {
  t.equal(background.kubernetes, null, 'no reconciler with the local executor')
  const receiver = await startReceiver(t)
  const endpoint = await client.webhooks.create({ name: 'done', url: receiver.url, event_types: ['fine_tuning.job.succeeded'] })
  const file = await uploadDataset(client, examples)
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'])
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))

  await receiver.waitFor(1)
  const hook = receiver.received[0]
  const event = await client.webhooks.unwrap(hook.body, hook.headers, endpoint.signing_secret)
  t.match(event, { object: 'event', type: 'fine_tuning.job.succeeded', data: { id: job.id } })
  t.match(hook.headers['webhook-id'], /\S/)
  await t.rejects(Promise.resolve().then(() => client.webhooks.unwrap(hook.body, hook.headers, 'whsec_' + Buffer.alloc(32).toString('base64'))), 'a wrong secret does not verify')

  // The delivery is recorded after the receiver answered, and the trainer leaves the running count when
  // its process has exited, which may come after it reported success: wait for both.
  const deadline = Date.now() + 5000
  const settled = (text: string) => sample(text, 'skillet_webhook_attempts_total', { outcome: 'delivered' }) === 1 && sample(text, 'skillet_trainers_running') === 0
  while (!settled(await scrape()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))

  const text = await scrape()
  t.equal(sample(text, 'skillet_http_request_duration_seconds_count', { method: 'POST', route: '/v1/fine_tuning/jobs', status_code: '200' }), 1, 'one job creation')
  t.ok((sample(text, 'skillet_http_request_duration_seconds_count', { method: 'GET', route: '/v1/fine_tuning/jobs/:fine_tuning_job_id', status_code: '200' }) ?? 0) >= 1, 'polls counted under the route pattern')
  t.notOk(text.includes(job.id), 'no job id in any label')
  t.ok((sample(text, 'skillet_http_request_duration_seconds_count', { route: '/internal/v1/jobs/:id/metrics', status_code: '200' }) ?? 0) >= 6, "the trainer's reports")
  t.equal(sample(text, 'skillet_trained_tokens_total'), 600, 'the fake trainer reports 100 tokens per step for 6 steps')
  t.equal(sample(text, 'skillet_training_tokens_per_second'), 10, '600 tokens in the last minute')
  t.equal(sample(text, 'skillet_fine_tuning_jobs', { status: 'succeeded' }), 1)
  t.equal(sample(text, 'skillet_fine_tuning_jobs', { status: 'running' }), 0)
  t.equal(sample(text, 'skillet_queue_wait_seconds_count'), 1, 'one claim')
  t.equal(sample(text, 'skillet_webhook_attempts_total', { outcome: 'delivered' }), 1)
  t.equal(sample(text, 'skillet_webhook_delivery_lag_seconds_count'), 1)
  t.equal(sample(text, 'skillet_webhook_deliveries_pending'), 0)
  t.equal(sample(text, 'skillet_webhook_lag_seconds'), 0)
  t.equal(sample(text, 'skillet_trainers_running'), 0)
  t.ok((sample(text, 'process_cpu_user_seconds_total') ?? 0) > 0, 'default process metrics')
})

t.test('queue depth and running trainers while one trainer runs and one job waits', async (t) => {
  const file = await uploadDataset(client, examples, 'slow.jsonl')
  fs.writeFileSync(path.join(scriptsDir, `${file.id}.json`), JSON.stringify({ steps: 10_000, stepMs: 50 }))
  const first = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  await waitForJob(client, first.id, ['running'])
  const second = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  await waitForJob(client, second.id, ['queued'])
  const text = await scrape()
  t.equal(sample(text, 'skillet_trainers_running'), 1, 'SKILLET_LOCAL_MAX_TRAINERS=1')
  t.equal(sample(text, 'skillet_fine_tuning_jobs', { status: 'running' }), 1)
  t.equal(sample(text, 'skillet_queue_depth'), 1, 'the second job waits for capacity')
  t.ok((sample(text, 'skillet_queue_oldest_wait_seconds') ?? -1) >= 0)
  await client.fineTuning.jobs.cancel(second.id)
  await client.fineTuning.jobs.cancel(first.id)
  t.equal(sample(await scrape(), 'skillet_queue_depth'), 0)
})

t.test('GET /metrics on the API port answers only to the metrics token', async (t) => {
  const url = ctx.baseURL.replace(/\/v1$/, '/metrics')
  t.equal((await fetch(url)).status, 401, 'no token')
  t.equal((await fetch(url, { headers: { authorization: `Bearer ${ctx.key}` } })).status, 401, 'an API key is not the metrics token')
  const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  t.equal(res.status, 200)
  t.ok(sample(await res.text(), 'skillet_fine_tuning_jobs', { status: 'succeeded' }) !== undefined)
  t.equal((await fetch(`http://127.0.0.1:${metricsServer.port}/`)).status, 404, 'the metrics port serves nothing else')
})

t.test('without a metrics token the API port has no /metrics', async (t) => {
  const plain = await startTestApp(t, { metrics: new SkilletMetrics() })
  t.equal((await fetch(plain.baseURL.replace(/\/v1$/, '/metrics'))).status, 404)
})

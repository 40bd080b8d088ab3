// Kill -9 the API (and with it the in-process scheduler) while a job trains; start it again. The
// orphaned trainer exits on its own (SKILLET_PARENT_PID); an embedded (single-replica) server knows
// at start that its trainers died with it and retries the job at once, with Postgres the reaper
// notices the silence; either way the job resumes from its latest checkpoint and the job ends correctly with no event duplicated
// and its webhook delivered once per webhook-id, verified by the openai SDK.
import path from 'node:path'
import OpenAI from 'openai'
import t from 'tap'
import type { Test } from 'tap'
import { randomBase62 } from '../../src/lib/ids.ts'
import { allEvents, chatExample, FAKE_TRAINER, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { spawnApi, waitHealthy } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { createTestPostgresDatabase, testDriver } from '../helpers/test-database.ts'
import fs from 'node:fs'
import http from 'node:http'

const KEY = `sk-${randomBase62(40)}`

async function databaseUrl(t: Test): Promise<string | undefined> {
  return testDriver() === 'pg' ? createTestPostgresDatabase(t) : undefined
}

t.test('the API is killed mid-job and restarted', async (t) => {
  const dataDir = await tmpDir(t, 'skillet-crash-')
  const scripts = await tmpDir(t, 'skillet-crash-scripts-')
  const port = 20000 + Math.floor(Math.random() * 20000)
  const base = `http://127.0.0.1:${port}`
  const dbUrl = await databaseUrl(t)
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    SKILLET_DATA_DIR: dataDir,
    SKILLET_API_KEY: KEY,
    SKILLET_LOG_LEVEL: 'info',
    SKILLET_BASE_MODELS: `${TEST_BASE_MODEL}=/nonexistent`,
    SKILLET_TRAINER_COMMAND: `${process.execPath} ${FAKE_TRAINER} --scripts ${scripts}`,
    // Embedded (PGlite): the restarted server reclaims at once; the reaper's timeout is the fallback.
    SKILLET_HEARTBEAT_TIMEOUT_SECONDS: dbUrl ? '8' : '20',
    SKILLET_SCHEDULER_INTERVAL_MS: '200',
    SKILLET_RATE_LIMIT_PER_MINUTE: '1000000',
    SKILLET_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    SKILLET_WEBHOOK_POLL_MS: '200',
    SKILLET_METRICS_PORT: '0',
    ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
  }
  const log = path.join(dataDir, 'api.log')
  let api = spawnApi(env, log)
  t.teardown(() => {
    api.kill('SIGKILL')
  })
  await waitHealthy(base)
  const client = new OpenAI({ apiKey: KEY, baseURL: `${base}/v1`, maxRetries: 0 })

  // A webhook receiver on loopback that records every delivery it gets.
  const deliveries: { id: string; body: string; headers: http.IncomingHttpHeaders }[] = []
  const receiver = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      deliveries.push({ id: String(req.headers['webhook-id']), body, headers: req.headers })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  t.teardown(() => receiver.close())
  const endpoint = await client.webhooks.create({
    name: 'crash test',
    url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`,
    event_types: ['fine_tuning.job.succeeded', 'fine_tuning.job.failed', 'fine_tuning.job.cancelled'],
  })
  const file = await uploadDataset(client, Array.from({ length: 10 }, (_, i) => chatExample(i)))
  fs.writeFileSync(path.join(scripts, 'default.json'), JSON.stringify({ steps: 24, stepMs: 150, checkpointEvery: 5 }))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  await waitForJob(client, job.id, ['running'], 60_000)
  while ((await client.fineTuning.jobs.checkpoints.list(job.id)).data.length < 1) await new Promise((r) => setTimeout(r, 100))

  api.kill('SIGKILL')
  await new Promise((r) => api.once('exit', r))
  api = spawnApi(env, log)
  await waitHealthy(base)

  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  const events = await allEvents(client, job.id)
  const messages = events.map((e) => e.message)
  const steps = events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step)
  t.same(steps, Array.from({ length: 24 }, (_, i) => i + 1), 'each step reported once, in order')
  const dupes = messages.filter((m, i) => messages.indexOf(m) !== i && !/^Fake trainer attempt/.test(m))
  t.same(dupes, [], 'no event duplicated')
  if (dbUrl) t.ok(messages.some((m) => /^The trainer stopped sending heartbeats .*Retrying from the checkpoint at step \d+/.test(m)), 'the reaper retried from the checkpoint')
  else {
    // Embedded: the restarted server reclaims at once (test/e2e/real-trainer-resume.test.ts holds it to
    // that); here the trainer outlives the server, and what matters is that the job recovers exactly once.
    const reclaimed = messages.find((m) => /^(The server restarted and its trainer did not survive it|The trainer stopped sending heartbeats .*)\. Retrying from the checkpoint at step \d+/.test(m))
    t.ok(reclaimed, `the job was retried from its checkpoint: ${reclaimed}`)
  }
  t.equal(messages.filter((m) => m === 'The job has successfully completed').length, 1)
  t.ok(messages.some((m) => /^Fake trainer attempt 2: 10 examples, starting at step [1-9]/.test(m)), 'the second attempt resumed')

  // The succeeded event goes out once; wait for it, then a little longer for any duplicate.
  for (let i = 0; i < 100 && deliveries.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(deliveries.length, 1, 'one delivery')
  t.equal(new Set(deliveries.map((d) => d.id)).size, deliveries.length, 'each webhook-id delivered once')
  const event = await client.webhooks.unwrap(deliveries[0].body, deliveries[0].headers as Record<string, string>, endpoint.signing_secret!)
  t.match(event, { type: 'fine_tuning.job.succeeded', data: { id: job.id } }, 'the SDK verifies the webhook')
  api.kill('SIGTERM')
  await new Promise((r) => api.once('exit', r))
})

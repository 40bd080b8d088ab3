// Kill -9 the API and its real trainer in the middle of a job, after a checkpoint; start the API
// again. Nobody heartbeats, so the reaper retries the job; the second attempt of the trainer loads
// the checkpoint from the blob store, continues from it and the job succeeds, every step reported
// once.
import fs from 'node:fs'
import path from 'node:path'
import OpenAI from 'openai'
import t from 'tap'
import { randomBase62 } from '../../src/lib/ids.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { freePort, spawnApi, waitHealthy } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { childrenOf } from '../helpers/processes.ts'

const KEY = `sk-${randomBase62(40)}`

const word = (i: number) => `item${i}`

t.test('the trainer is killed mid-job and the retried attempt resumes from its checkpoint', async (t) => {
  const dataDir = await tmpDir(t, 'skillet-resume-')
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    SKILLET_DATA_DIR: dataDir,
    SKILLET_API_KEY: KEY,
    DATABASE_URL: '', // the embedded database, whatever the test run uses
    SKILLET_LOG_LEVEL: 'warn',
    // Generous: a trainer starting on a loaded machine must not be taken for a lost one.
    SKILLET_HEARTBEAT_TIMEOUT_SECONDS: '10',
    SKILLET_SCHEDULER_INTERVAL_MS: '200',
    SKILLET_RATE_LIMIT_PER_MINUTE: '1000000',
    // Read by the trainer, which inherits the server's environment.
    SKILLET_TRAINER_BACKEND: 'wasm',
    SKILLET_TRAINER_HEARTBEAT_SECONDS: '1',
    SKILLET_TRAINER_CHECKPOINT_EVERY_STEPS: '4',
  }
  const log = path.join(dataDir, 'api.log')
  let api = spawnApi(env, log) // generates the demo model on first start
  t.teardown(() => {
    api.kill('SIGKILL')
  })
  await waitHealthy(base)
  const client = new OpenAI({ apiKey: KEY, baseURL: `${base}/v1`, maxRetries: 0 })
  const examples = Array.from({ length: 24 }, (_, i) => ({ messages: [{ role: 'user', content: `Repeat ${word(i)}` }, { role: 'assistant', content: `Word: ${word(i)}.` }] }))
  const file = await uploadDataset(client, examples)
  const job = await client.fineTuning.jobs.create({
    model: 'skillet-tiny-llama',
    training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 1, learning_rate_multiplier: 0.05 } } },
  })
  await waitForJob(client, job.id, ['running'], 60_000)
  let seen = 0
  while (seen < 1) {
    const job1 = await client.fineTuning.jobs.retrieve(job.id)
    if (job1.status !== 'running') throw new Error(`job ${job1.status} before a checkpoint: ${JSON.stringify(job1.error)}\n${fs.readFileSync(log, 'utf8')}`)
    seen = (await client.fineTuning.jobs.checkpoints.list(job.id)).data.length
    await new Promise((r) => setTimeout(r, 50))
  }

  // The server first, so that nobody sees the trainer die; then the trainer, before it notices —
  // and the standby trainer started to replace the one the job took (SKILLET_WARM_TRAINERS), if
  // it is up yet.
  const trainers = childrenOf(api.pid!)
  t.ok(trainers.length >= 1 && trainers.length <= 2, `the job's trainer (and at most a standby) run under the API: ${trainers.length}`)
  api.kill('SIGKILL')
  for (const pid of trainers) process.kill(pid, 'SIGKILL')
  await new Promise((r) => api.once('exit', r))

  api = spawnApi(env, log)
  await waitHealthy(base)
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')

  const events = await allEvents(client, job.id)
  const messages = events.map((e) => e.message)
  const steps = events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step)
  t.same(steps, Array.from({ length: 72 }, (_, i) => i + 1), 'each of the 72 steps reported once, in order')
  // Embedded mode: the restarted server knows its predecessor's trainers died with it and retries at once.
  const retry = messages.find((m) => /^The server restarted and its trainer did not survive it\. Retrying from the checkpoint at step \d+/.test(m))
  t.ok(retry, `the restarted server retried: ${retry}`)
  const from = Number(/at step (\d+)/.exec(retry ?? '')?.[1])
  t.ok(from >= 4 && from % 4 === 0, `the retry starts from a checkpoint (step ${from})`)
  t.ok(messages.some((m) => m.startsWith('Trainer attempt 2 started')), 'a second attempt ran')
  t.ok(messages.some((m) => new RegExp(`^resumed from checkpoint at step ${from} \\(epoch \\d, batch \\d+\\)$`).test(m)), 'the second attempt resumed from that checkpoint')
  const dupes = messages.filter((m, i) => messages.indexOf(m) !== i)
  t.same(dupes, [], 'no event duplicated')
  t.equal(messages.filter((m) => m === 'The job has successfully completed').length, 1)
  const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id, { limit: 100 })).data.map((c) => c.step_number).sort((a, b) => a - b)
  t.same(checkpoints, Array.from({ length: 18 }, (_, i) => (i + 1) * 4), 'a checkpoint every 4 steps, each recorded once')
  api.kill('SIGTERM')
  await new Promise((r) => api.once('exit', r))
})

// A job started on a standby trainer (the local executor's warm start: a real trainer process
// started ahead, handed its spec and token over IPC) trains exactly as one started for the job:
// the same events, metrics and result; and a cancel stops it the same way.
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import type OpenAI from 'openai'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import type { LocalExecutor } from '../../src/running/local/local-executor.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver']
const example = (word: string) => ({ messages: [{ role: 'user', content: `Repeat ${word}` }, { role: 'assistant', content: `Word: ${word}.` }] })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A logger whose lines the test reads: the executor says whether each trainer was a standby. */
function capturedLog() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
  return { log: pino({ level: 'info' }, stream), started: () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('trainer started')) }
}

async function readyStandby(executor: LocalExecutor): Promise<number> {
  const deadline = Date.now() + 120_000
  for (;;) {
    const ready = executor.standbyProcesses.find((p) => p.ready)
    if (ready?.pid) return ready.pid
    if (Date.now() > deadline) throw new Error('no standby trainer became ready')
    await sleep(50)
  }
}

/** What the job shows that does not depend on timing: its events (speed and timing left out), metrics and result. */
async function outcome(client: OpenAI, jobId: string) {
  const job = await waitForJob(client, jobId, ['succeeded', 'failed', 'cancelled'], 120_000)
  const events = await allEvents(client, jobId)
  const messages = events
    .filter((e) => e.type !== 'metrics')
    .map((e) => e.message.replace(/ft:[^\s,]+/g, 'ft:MODEL').replace(/ftjob-[A-Za-z0-9]+/g, 'JOB').replace(/file-[A-Za-z0-9]+/g, 'FILE'))
    // The API's estimate (its duration, and whether the token count was cached by the earlier app) and timings.
    .filter((m) => !/^Estimated|tokens\/s|took|seconds|\bms\b/.test(m))
  const metrics = events.filter((e) => e.type === 'metrics').map((e) => {
    const d = e.data as { step: number; train_loss: number }
    return { step: d.step, train_loss: d.train_loss }
  })
  const checkpoints = (await client.fineTuning.jobs.checkpoints.list(jobId)).data.map((c) => ({ step: c.step_number, metrics: c.metrics })).reverse()
  return { status: job.status, error: job.error, trainedTokens: job.trained_tokens, resultFiles: job.result_files.length, messages, metrics, checkpoints }
}

const JOB = {
  model: DEMO_MODEL_ID,
  seed: 3,
  method: { type: 'supervised' as const, supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } },
}

t.test('a job on a standby trainer trains and succeeds exactly as on a trainer started for it', async (t) => {
  // One app at a time: apps in a test file share the database, and a running scheduler would take the other's job.
  let expected: Awaited<ReturnType<typeof outcome>> | undefined
  await t.test('started for the job', async (t) => {
    const cold = await startRealTrainerApp(t)
    const file = await uploadDataset(cold.client, WORDS.map(example))
    const job = await cold.client.fineTuning.jobs.create({ ...JOB, training_file: file.id })
    expected = await outcome(cold.client, job.id)
    t.equal(expected.status, 'succeeded', expected.error ? JSON.stringify(expected.error) : 'the cold job succeeded')
  })
  await t.test('on a standby', async (t) => {
    const { log, started } = capturedLog()
    const warm = await startRealTrainerApp(t, {}, {}, {}, { warmTrainers: 1, log })
    const standby = await readyStandby(warm.executor)
    t.equal(warm.executor.running, 0, 'a standby is no running trainer')
    const file = await uploadDataset(warm.client, WORDS.map(example))
    const job = await warm.client.fineTuning.jobs.create({ ...JOB, training_file: file.id })
    const got = await outcome(warm.client, job.id)
    t.match(started(), [{ jobId: job.id, pid: standby, warm: true }], 'the job ran on the standby')
    t.same(got, expected, 'the same events, metrics, checkpoints and result')
    t.ok(got.metrics.length > 0 && got.checkpoints.length > 0, `${got.metrics.length} steps, ${got.checkpoints.length} checkpoints`)
    t.notOk(warm.executor.standbyProcesses.some((p) => p.pid === standby), 'the used standby left the pool')
    t.not(await readyStandby(warm.executor), standby, 'a new standby replaced it')
  })
})

t.test('cancel stops a job running on a standby trainer', async (t) => {
  const { log, started } = capturedLog()
  const { client, executor } = await startRealTrainerApp(t, { SKILLET_TRAINER_HEARTBEAT_SECONDS: '1' }, {}, {}, { warmTrainers: 1, log })
  const standby = await readyStandby(executor)
  const examples = Array.from({ length: 200 }, (_, i) => example(`item${i}`))
  const file = await uploadDataset(client, examples)
  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 1 } } } })
  await waitForJob(client, job.id, ['running'], 60_000)
  while (!(await client.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data.some((e) => e.type === 'metrics')) await sleep(20)
  t.match(started(), [{ jobId: job.id, pid: standby, warm: true }], 'the job runs on the standby')
  t.equal(executor.running, 1, 'the trainer runs')
  await client.fineTuning.jobs.cancel(job.id)
  const deadline = Date.now() + 10_000
  while (executor.running > 0 && Date.now() < deadline) await sleep(50)
  t.equal(executor.running, 0, 'the trainer process is gone')
  t.throws(() => process.kill(standby, 0), { code: 'ESRCH' }, 'its process no longer exists')
  t.equal((await client.fineTuning.jobs.retrieve(job.id)).status, 'cancelled')
  const steps = (await allEvents(client, job.id)).filter((e) => e.type === 'metrics').length
  t.ok(steps < 600, `training stopped after ${steps} of 600 steps`)
})

// npm run bench:job-start — how long a job takes to start training on the embedded defaults: from
// POST /v1/fine_tuning/jobs to the job's status `running`, to the trainer's first event (its backend
// chosen: the process is up and TensorFlow.js loaded) and to its first step's metrics event, on the
// demo model. Target: < 1 s to the first step once the base model is cached.
//
//   npm run bench:job-start [-- --jobs 3]
//
// It starts `node src/server.ts` on a fresh data dir (the first start creates the database and the
// demo model, not counted), uploads docs/examples/train.jsonl once, then runs the jobs one after the
// other, each cancelled once its first step is reported. The first job is the cold one (nothing of
// the trainer's cached by the OS yet); the later ones show a warm start. The trainer reports a step
// when the next one has run (it holds each report back to join validation metrics), so "first step"
// includes the second step's time, a few milliseconds on the demo model. Events are polled every
// 25 ms.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'
import { freePort } from '../helpers/server-process.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const KEY = 'sk-bench-job-start-0123456789abcdef'

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '3' } } })
const jobs = Number(values.jobs)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-bench-job-start-'))
const port = await freePort()
const server = spawn(process.execPath, ['src/server.ts'], {
  cwd: ROOT,
  env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), SKILLET_LOG_LEVEL: 'warn', SKILLET_API_KEY: KEY, SKILLET_METRICS_PORT: '0', SKILLET_DATA_DIR: dir, SKILLET_SCHEDULER_INTERVAL_MS: '1000' },
  stdio: ['ignore', 'ignore', 'inherit'],
})
const exited = new Promise((r) => server.once('exit', r))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

try {
  const base = `http://127.0.0.1:${port}`
  while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) {
    if (server.exitCode !== null) throw new Error('server exited')
    await sleep(100)
  }
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY })
  const file = await client.files.create({ file: fs.createReadStream(path.join(ROOT, 'docs/examples/train.jsonl')), purpose: 'fine-tune' })
  await client.files.waitForProcessing(file.id, { pollInterval: 100 })
  const rows: { running: number; trainer: number; step: number }[] = []
  for (let i = 0; i < jobs; i++) {
    const started = performance.now()
    const job = await client.fineTuning.jobs.create({ model: 'skillet-tiny-llama', training_file: file.id })
    const at: { running?: number; trainer?: number; step?: number } = {}
    const deadline = Date.now() + 300_000
    while (at.step === undefined) {
      if (Date.now() > deadline) throw new Error(`job ${job.id} did not report a step`)
      const now = (performance.now() - started) / 1000
      if (at.running === undefined && (await client.fineTuning.jobs.retrieve(job.id)).status === 'running') at.running = now
      const events = (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data
      if (at.trainer === undefined && events.some((e) => e.message.startsWith('trainer backend'))) at.trainer = now
      if (events.some((e) => e.type === 'metrics')) at.step = now
      const failed = (await client.fineTuning.jobs.retrieve(job.id)).status
      if (failed === 'failed' || failed === 'cancelled') throw new Error(`job ${job.id} ended ${failed}`)
      await sleep(25)
    }
    rows.push({ running: at.running ?? at.step, trainer: at.trainer ?? at.step, step: at.step })
    await client.fineTuning.jobs.cancel(job.id)
    while ((await client.fineTuning.jobs.retrieve(job.id)).status !== 'cancelled') await sleep(100)
    // The cancelled trainer's process exits before the next job can take the one local slot.
    await sleep(1000)
  }
  console.log(`\nPOST /v1/fine_tuning/jobs → … on the demo model, embedded defaults; load average ${os.loadavg()[0].toFixed(1)}\n`)
  console.log('job   running   trainer up   first step')
  rows.forEach((r, i) => console.log(`${String(i + 1).padEnd(5)} ${r.running.toFixed(2).padStart(6)} s ${r.trainer.toFixed(2).padStart(9)} s ${r.step.toFixed(2).padStart(9)} s${i === 0 ? '   (cold)' : ''}`))
  const warm = rows.slice(1).map((r) => r.step).sort((a, b) => a - b)
  if (warm.length) console.log(`\nwarm first step: median ${warm[Math.floor(warm.length / 2)].toFixed(2)} s (target < 1 s)`)
} finally {
  if (server.exitCode === null) server.kill('SIGTERM')
  await exited
  fs.rmSync(dir, { recursive: true, force: true })
}

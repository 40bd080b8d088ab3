// npm run bench:job-start — how long a job takes to start training on the embedded defaults: from
// POST /v1/fine_tuning/jobs to the job's status `running`, to the trainer's first event (its backend
// chosen and the base model loaded) and to its first step's metrics event, on the
// demo model. Target: < 1 s to the first step once the base model is cached.
//
//   npm run bench:job-start [-- --jobs 3]
//
// It runs twice: with SKILLET_WARM_TRAINERS=0 (each trainer started for its job) and with the
// default 1 (a standby trainer, started ahead, takes the job: src/running/local/standby-trainers.ts).
// Each time it starts `node src/server.ts` on a fresh data dir (the first start creates the database
// and the demo model, not counted), uploads docs/examples/train.jsonl once, then runs the jobs one
// after the other, each cancelled once its first step is reported. Without standbys the first job
// is the cold one (nothing of the trainer's cached by the OS yet). With them, the bench waits for
// the standby before the first job and between jobs for its replacement, as a server does between
// jobs that are not back to back; the last column says (from the server's log) which trainer ran.
// The trainer reports a step when the next one has run (it holds each report back to join
// validation metrics), so "first step" includes the second step's time, a few milliseconds on the
// demo model. Events are polled every 25 ms, one request at a time.
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Row { running: number; trainer: number; step: number; standby: boolean }

/** Starts a server with SKILLET_WARM_TRAINERS=`warm`, runs the jobs one after the other, stops it. */
async function measure(warm: number): Promise<Row[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-bench-job-start-'))
  const port = await freePort()
  const server = spawn(process.execPath, ['src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), SKILLET_LOG_LEVEL: 'info', SKILLET_API_KEY: KEY, SKILLET_METRICS_PORT: '0', SKILLET_DATA_DIR: dir, SKILLET_SCHEDULER_INTERVAL_MS: '1000', SKILLET_WARM_TRAINERS: String(warm) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // The executor's 'trainer started' log lines say whether each job's trainer was a standby.
  const started: boolean[] = []
  let readyStandbys = 0
  const standbyReady = async (n: number) => {
    const until = Date.now() + 60_000
    while (readyStandbys < n && Date.now() < until) await sleep(50)
  }
  let buffered = ''
  server.stdout!.on('data', (chunk: Buffer) => {
    const lines = (buffered + chunk.toString('utf8')).split('\n')
    buffered = lines.pop()!
    for (const line of lines) {
      if (line.includes('"msg":"trainer started')) started.push(line.includes('"warm":true'))
      if (line.includes('"msg":"standby trainer ready"')) readyStandbys += 1
    }
  })
  const exited = new Promise((r) => server.once('exit', r))
  try {
    const base = `http://127.0.0.1:${port}`
    while (!(await fetch(`${base}/readyz`).then((r) => r.ok, () => false))) {
      if (server.exitCode !== null) throw new Error('server exited')
      await sleep(100)
    }
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY })
    const file = await client.files.create({ file: fs.createReadStream(path.join(ROOT, 'docs/examples/train.jsonl')), purpose: 'fine-tune' })
    await client.files.waitForProcessing(file.id, { pollInterval: 100 })
    // The standby (if any) is up before the first job, as it is on a server that has been running a while.
    await standbyReady(warm > 0 ? 1 : 0)
    const rows: Row[] = []
    for (let i = 0; i < jobs; i++) {
      const startedAt = performance.now()
      const job = await client.fineTuning.jobs.create({ model: 'skillet-tiny-llama', training_file: file.id })
      const at: { running?: number; trainer?: number; step?: number } = {}
      const deadline = Date.now() + 300_000
      // One request per poll (the server's PGlite runs the trainer's reports and these queries one at a time).
      for (let poll = 0; at.step === undefined; poll++) {
        if (Date.now() > deadline) throw new Error(`job ${job.id} did not report a step`)
        const now = (performance.now() - startedAt) / 1000
        if (at.running === undefined || poll % 20 === 0) {
          const status = (await client.fineTuning.jobs.retrieve(job.id)).status
          if (status === 'running') at.running ??= now
          if (status === 'failed' || status === 'cancelled') throw new Error(`job ${job.id} ended ${status}`)
        } else {
          const events = (await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data
          if (at.trainer === undefined && events.some((e) => e.message.includes('trainer backend'))) at.trainer = now
          if (events.some((e) => e.type === 'metrics')) at.step = now
        }
        await sleep(25)
      }
      // A short job may have finished already (its trainer no longer runs either way).
      await client.fineTuning.jobs.cancel(job.id).catch(() => {})
      while (!['cancelled', 'succeeded'].includes((await client.fineTuning.jobs.retrieve(job.id)).status)) await sleep(100)
      rows.push({ running: at.running ?? at.step, trainer: at.trainer ?? at.step, step: at.step, standby: started[i] ?? false })
      // The cancelled trainer's process exits before the next job can take the one local slot;
      // the standby taken by this job is replaced meanwhile.
      await sleep(1000)
      await standbyReady(warm > 0 ? i + 2 : 0)
    }
    return rows
  } finally {
    if (server.exitCode === null) server.kill('SIGTERM')
    await exited
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const print = (title: string, rows: Row[]) => {
  console.log(`\n${title}\njob   running   trainer up   first step   trainer`)
  rows.forEach((r, i) => console.log(`${String(i + 1).padEnd(5)} ${r.running.toFixed(2).padStart(6)} s ${r.trainer.toFixed(2).padStart(9)} s ${r.step.toFixed(2).padStart(9)} s   ${r.standby ? 'standby' : 'started for the job'}`))
}

const cold = await measure(0)
const load1 = os.loadavg()[0]
const warm = await measure(1)
const load2 = os.loadavg()[0]
console.log(`\nPOST /v1/fine_tuning/jobs → … on the demo model, embedded defaults`)
print(`SKILLET_WARM_TRAINERS=0 (every trainer started for its job; job 1: nothing cached by the OS yet); load average ${load1.toFixed(1)}`, cold)
print(`SKILLET_WARM_TRAINERS=1 (the default: a standby trainer takes each job); load average ${load2.toFixed(1)}`, warm)
console.log(`\nfirst step: median ${median(cold.slice(1).map((r) => r.step)).toFixed(2)} s cold (jobs 2+), ${median(warm.map((r) => r.step)).toFixed(2)} s on a standby (target < 1 s)`)

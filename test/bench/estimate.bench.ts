// How close the estimate before training lands: starts the server on embedded defaults (a fresh
// data dir, the demo model), runs demo jobs of different sizes one after another and prints, per
// job, the estimated seconds (made when its files were validated, from the speed the jobs before it
// measured) next to the real seconds from validation to success. The first job has no measurement
// yet and uses SKILLET_ESTIMATE_TOKENS_PER_SECOND. `npm run bench:estimate [-- --jobs N]`.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI, { toFile } from 'openai'
import { startServerProcess } from '../helpers/server-process.ts'

const jobsArg = process.argv.indexOf('--jobs')
const JOBS = jobsArg > 0 ? Number(process.argv[jobsArg + 1]) : 6
const lines = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/examples/train.jsonl'), 'utf8').trim().split('\n')
/** Sizes and epochs, cycled: small and larger files, 1 to 3 epochs. */
const PLANS = [{ copies: 1, epochs: 2 }, { copies: 2, epochs: 1 }, { copies: 1, epochs: 3 }, { copies: 3, epochs: 2 }, { copies: 2, epochs: 3 }, { copies: 1, epochs: 1 }]

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-bench-estimate-'))
const apiKey = `sk-bench-estimate-${'x'.repeat(24)}`
const server = await startServerProcess({ SKILLET_DATA_DIR: dataDir, SKILLET_API_KEY: apiKey, SKILLET_SCHEDULER_INTERVAL_MS: '200' })
try {
  const client = new OpenAI({ baseURL: `${server.baseURL}/v1`, apiKey })
  console.log(`load average ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} cores`)
  console.log('job | examples | epochs | tokens trained | speed from | estimated s | real s | off by')
  const errors: number[] = []
  for (let i = 0; i < JOBS; i++) {
    const plan = PLANS[i % PLANS.length]
    const body = Array.from({ length: plan.copies }, () => lines).flat().join('\n') + '\n'
    const file = await client.files.create({ file: await toFile(Buffer.from(body), `train-${i}.jsonl`), purpose: 'fine-tune' })
    await client.files.waitForProcessing(file.id, { pollInterval: 100 })
    let job = await client.fineTuning.jobs.create({ model: 'skillet-tiny-llama', training_file: file.id, seed: i, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: plan.epochs } } } })
    while (!['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      await new Promise((r) => setTimeout(r, 250))
      job = await client.fineTuning.jobs.retrieve(job.id)
    }
    if (job.status !== 'succeeded') throw new Error(`job ${job.id} ${job.status}: ${JSON.stringify(job.error)}`)
    let validated: OpenAI.FineTuning.FineTuningJobEvent | undefined
    for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 100 })) if (e.message.startsWith('Files validated')) validated = e
    const estimate = (job as unknown as { estimate: { estimated_seconds: number; trained_tokens: number; examples: number; speed: { calibrated_jobs: number; backend: string | null } } }).estimate
    const real = job.finished_at! - validated!.created_at
    const off = (estimate.estimated_seconds - real) / real
    if (estimate.speed.calibrated_jobs > 0) errors.push(Math.abs(off))
    const from = estimate.speed.calibrated_jobs ? `${estimate.speed.calibrated_jobs} job(s), ${estimate.speed.backend}` : 'the default'
    console.log(`${i + 1} | ${estimate.examples} | ${plan.epochs} | ${estimate.trained_tokens} | ${from} | ${estimate.estimated_seconds} | ${real} | ${off >= 0 ? '+' : ''}${(off * 100).toFixed(0)} %`)
  }
  if (errors.length) {
    const sorted = [...errors].sort((a, b) => a - b)
    console.log(`calibrated estimates: mean |error| ${(100 * errors.reduce((a, b) => a + b, 0) / errors.length).toFixed(0)} %, worst ${(100 * sorted.at(-1)!).toFixed(0)} % (${errors.length} jobs; times in whole seconds)`)
  }
} finally {
  await server.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
}

// A test API with the scheduler running in-process and the scripted fake trainer as the local
// executor's command, plus small helpers for jobs tests.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type OpenAI from 'openai'
import { toFile } from 'openai'
import pino from 'pino'
import type { Test } from 'tap'
import { startScheduler, type RunningScheduler } from '../../src/running/start-scheduler.ts'
import { startTestApp, tmpDir, type TestApp } from './test-app.ts'

export const FAKE_TRAINER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fake-trainer.ts')
export const TEST_BASE_MODEL = 'tiny-test'

/** What the fake trainer does for jobs on a given training file (see fake-trainer.ts). */
export interface FakeTrainerScript {
  steps?: number
  stepMs?: number
  checkpointEvery?: number
  /** Exit with code 3 (and an error on stderr) when reaching this step, on the first attempt only. */
  crashAtStep?: number
  /** Kill itself with SIGKILL (as the OOM killer would) when reaching this step, on the first attempt only. */
  killAtStep?: number
  /** Stop heartbeating (but stay alive) at this step, on the first attempt only. */
  hangAtStep?: number
  /** Apply hangAtStep on every attempt, not just the first. */
  hangAlways?: boolean
  /** Report a failed status at this step. */
  failAtStep?: number
  /** The measured speed the succeeded status reports (the estimate's calibration). */
  speed?: { backend: string; tokens_per_second: number; overhead_seconds: number }
}

export interface JobsTestApp extends TestApp {
  scheduler: RunningScheduler
  scriptsDir: string
  /** Scripts the fake trainer for jobs training on `fileId` ('default' for all others). */
  script(fileId: string, script: FakeTrainerScript): void
}

export async function startJobsApp(t: Test, opts: { env?: Record<string, string>; scheduler?: boolean } = {}): Promise<JobsTestApp> {
  const scriptsDir = await tmpDir(t, 'skillet-fake-trainer-')
  const ctx = await startTestApp(t, {
    env: {
      SKILLET_BASE_MODELS: `${TEST_BASE_MODEL}=/nonexistent/${TEST_BASE_MODEL},org/other-base=/nonexistent/other`,
      SKILLET_TRAINER_COMMAND: `${process.execPath} ${FAKE_TRAINER} --scripts ${scriptsDir}`,
      SKILLET_SCHEDULER_INTERVAL_MS: '100',
      SKILLET_RATE_LIMIT_PER_MINUTE: '1000000',
      ...opts.env,
    },
  })
  const callbackUrl = ctx.baseURL.replace(/\/v1$/, '/internal/v1')
  const log = pino({ level: process.env.SKILLET_TEST_LOG ?? 'silent' })
  const scheduler = startScheduler(ctx.services, { log, callbackUrl })
  // Registered after the app's own teardown, so it runs first: trainers stop before the API does.
  t.teardown(() => scheduler.stop())
  return {
    ...ctx,
    scheduler,
    scriptsDir,
    script(fileId, script) {
      fs.writeFileSync(path.join(scriptsDir, `${fileId}.json`), JSON.stringify(script))
    },
  }
}

export const chatExample = (i: number) => ({ messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: `answer ${i}` }] })
export const preferenceExample = (i: number) => ({
  input: { messages: [{ role: 'user', content: `question ${i}` }] },
  preferred_output: [{ role: 'assistant', content: `good ${i}` }],
  non_preferred_output: [{ role: 'assistant', content: `bad ${i}` }],
})

/** Uploads a fine-tune JSONL file and waits until its validation finished. */
export async function uploadDataset(client: OpenAI, examples: object[], name = 'train.jsonl'): Promise<OpenAI.FileObject> {
  const body = examples.map((e) => JSON.stringify(e)).join('\n') + '\n'
  const file = await client.files.create({ file: await toFile(Buffer.from(body), name), purpose: 'fine-tune' })
  return client.files.waitForProcessing(file.id, { pollInterval: 20 })
}

/** Polls a job until its status is one of `statuses`. */
export async function waitForJob(client: OpenAI, jobId: string, statuses: string[], timeoutMs = 30_000): Promise<OpenAI.FineTuning.FineTuningJob> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const job = await client.fineTuning.jobs.retrieve(jobId)
    if (statuses.includes(job.status)) return job
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs}ms (wanted ${statuses.join('/')})`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Every event of a job, oldest first, through the SDK's auto-pagination. */
export async function allEvents(client: OpenAI, jobId: string): Promise<OpenAI.FineTuning.FineTuningJobEvent[]> {
  const events: OpenAI.FineTuning.FineTuningJobEvent[] = []
  for await (const e of client.fineTuning.jobs.listEvents(jobId, { limit: 7 })) events.push(e)
  return events.reverse()
}

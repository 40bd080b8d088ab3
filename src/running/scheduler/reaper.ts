// A job whose trainer vanished — no heartbeat for heartbeatTimeoutSeconds, or an executor that no
// longer knows it — is retried from its latest checkpoint, up to maxAttempts attempts in all, and
// then failed with a clear error. A pausing job whose trainer vanished is simply paused: its latest
// checkpoint is where it will resume.
import { and, eq, lt, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/database.ts'
import { fineTuningJobs, jobCheckpoints } from '../../db/schema/index.ts'
import { unixNow } from '../../lib/ids.ts'
import type { JobRow } from '../../jobs/job-object.ts'
import { applyAction, type Tx } from '../../jobs/job-store.ts'
import { retriesSoFar } from './claim.ts'

export interface ReaperOptions {
  heartbeatTimeoutSeconds: number
  maxAttempts: number
  /** The error code once attempts run out (default trainer_lost; out_of_memory for a likely OOM kill). */
  exhaustedCode?: string
}

/** Seconds before a retried job may run again: 5, 10, 20, … capped at 5 minutes. */
export function retryDelaySeconds(retry: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, retry - 1))
}

/** Retries or fails one locked, active job whose trainer is gone. Returns what became of it. */
export async function handleLostTrainer(tx: Tx, job: JobRow, why: string, opts: ReaperOptions): Promise<'retried' | 'failed' | 'paused'> {
  const [latest] = await tx.select({ step: jobCheckpoints.stepNumber }).from(jobCheckpoints).where(eq(jobCheckpoints.jobId, job.id)).orderBy(sql`${jobCheckpoints.stepNumber} desc`).limit(1)
  const from = latest ? `the checkpoint at step ${latest.step}` : 'the start'
  const clear = { leaseOwner: null, trainerTokenHash: null, heartbeatAt: null }
  if (job.status === 'pausing') {
    await applyAction(tx, job, 'retry', clear, [{ level: 'warn', message: `${why}. The job is paused and will resume from ${from}`, idempotencyKey: `lost-while-pausing:${job.attempts}` }])
    return 'paused'
  }
  const retries = await retriesSoFar(tx, job.id)
  if (retries + 1 < opts.maxAttempts) {
    const retry = retries + 1
    await applyAction(tx, job, 'retry', { ...clear, runAfter: unixNow() + retryDelaySeconds(retry) }, [
      { level: 'warn', message: `${why}. Retrying from ${from} (retry ${retry} of ${opts.maxAttempts - 1})`, idempotencyKey: `retry:${retry}` },
    ])
    return 'retried'
  }
  const message = `${why}, and the job already used its ${opts.maxAttempts} attempts.`
  await applyAction(tx, job, 'fail', { ...clear, error: { code: opts.exhaustedCode ?? 'trainer_lost', message, param: null } }, [{ level: 'error', message, idempotencyKey: 'failed' }])
  return 'failed'
}

/** Handles every active job as lost (skipping rows others hold): for a scheduler that knows all trainers died with its predecessor. */
export async function reclaimAll(db: Db, why: string, opts: ReaperOptions): Promise<Record<string, string>> {
  return reapWhere(db, sql`true`, () => why, opts)
}

/** Finds active jobs with a stale heartbeat (skipping rows others hold) and handles each. */
export async function reapLostJobs(db: Db, opts: ReaperOptions): Promise<Record<string, string>> {
  const cutoff = unixNow() - opts.heartbeatTimeoutSeconds
  return reapWhere(db, lt(fineTuningJobs.heartbeatAt, cutoff), (job) => `The trainer stopped sending heartbeats (none for ${unixNow() - (job.heartbeatAt ?? 0)} seconds)`, opts)
}

async function reapWhere(db: Db, condition: SQL, why: (job: JobRow) => string, opts: ReaperOptions): Promise<Record<string, string>> {
  const outcome: Record<string, string> = {}
  const active = sql`${fineTuningJobs.status} in ('running', 'pausing')`
  const found = await db.select({ id: fineTuningJobs.id }).from(fineTuningJobs).where(and(active, condition)).limit(100)
  for (const { id } of found) {
    await db.transaction(async (tx) => {
      const [job] = await tx.select().from(fineTuningJobs).where(and(eq(fineTuningJobs.id, id), active, condition)).for('update', { skipLocked: true })
      if (!job) return
      outcome[id] = await handleLostTrainer(tx, job, why(job), opts)
    })
  }
  return outcome
}

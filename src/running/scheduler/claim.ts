// Postgres as the queue. A claim takes the oldest runnable job (queued, run_after passed) whose
// project and the whole deployment are under their concurrency limits, locking the row with
// FOR UPDATE SKIP LOCKED so a row another transaction holds (a claimer, a cancel) is skipped, not
// waited for. The counts behind the limits are only exact if claims do not interleave, so each
// claim first takes a transaction-scoped advisory lock: claims serialise (they are a few
// milliseconds each), while everything else keeps running concurrently.
import { eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/database.ts'
import { fineTuningJobs, jobEvents } from '../../db/schema/index.ts'
import { unixNow } from '../../lib/ids.ts'
import type { JobRow } from '../../jobs/job-object.ts'
import { applyAction } from '../../jobs/job-store.ts'
import { newTrainerToken } from '../../jobs/trainer-token.ts'

/** Arbitrary constant naming the claim lock (pg advisory locks are keyed by integers). */
const CLAIM_LOCK_KEY = 0x5c111e7

export interface ClaimLimits {
  maxRunning: number
  maxRunningPerProject: number
}

export interface Claimed {
  job: JobRow
  /** The new attempt's trainer token (only its hash is stored). */
  token: string
}

function rowsOf(result: unknown): Record<string, unknown>[] {
  return (result as { rows: Record<string, unknown>[] }).rows
}

/** Claims one runnable job for `owner`, moving it to running; null when nothing may run now. */
export async function claimNextJob(db: Db, owner: string, limits: ClaimLimits): Promise<Claimed | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK_KEY})`)
    const now = unixNow()
    const picked = rowsOf(
      await tx.execute(sql`
        select j.id from fine_tuning_jobs j
        where j.status = 'queued' and j.run_after <= ${now}
          and (select count(*) from fine_tuning_jobs a where a.status in ('running', 'pausing')) < ${limits.maxRunning}
          and (select count(*) from fine_tuning_jobs a where a.status in ('running', 'pausing') and a.project_id = j.project_id) < ${limits.maxRunningPerProject}
        order by j.seq
        limit 1
        for update of j skip locked`),
    )
    if (picked.length === 0) return null
    const [row] = await tx.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, String(picked[0].id)))
    const attempt = row.attempts + 1
    const { token, hash } = newTrainerToken()
    const job = await applyAction(tx, row, 'start', { attempts: attempt, leaseOwner: owner, heartbeatAt: now, trainerTokenHash: hash, stopRequested: null }, [
      attempt === 1
        ? { message: 'Fine-tuning job started', idempotencyKey: 'started' }
        : { message: `Fine-tuning job resumed (attempt ${attempt})`, idempotencyKey: `attempt:${attempt}` },
    ])
    return { job, token }
  })
}

/** How many times a lost trainer was retried so far (recorded as events, one per retry). */
export async function retriesSoFar(db: Pick<Db, 'select'>, jobId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(jobEvents)
    .where(sql`${jobEvents.jobId} = ${jobId} and ${jobEvents.idempotencyKey} like 'retry:%'`)
  return row.n
}

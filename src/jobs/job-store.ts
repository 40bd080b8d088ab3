// The one place a job's status is written: lock the row, ask the state machine, update the row and
// record its events in the same transaction — and, when the job ends, the webhook event too.
import { and, eq, sql } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { fineTuningJobs, jobEvents } from '../db/schema/index.ts'
import { invalidRequest, notFound } from '../lib/errors.ts'
import { unixNow } from '../lib/ids.ts'
import { enqueueWebhookEvent } from '../webhooks/outbox.ts'
import type { JobRow } from './job-object.ts'
import { jobIds } from './naming.ts'
import { isJobStatus, isTerminal, transition, type JobAction, type JobStatus } from './state-machine.ts'

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]

export interface NewEvent {
  level?: 'info' | 'warn' | 'error'
  message: string
  type?: 'message' | 'metrics'
  data?: Record<string, unknown>
  /** A retried report with the same key is ignored (unique per job). */
  idempotencyKey?: string
  createdAt?: number
}

/** Inserts events; those whose idempotency key the job already has are skipped. Returns how many were new. */
export async function addEvents(tx: Tx | Db, jobId: string, events: NewEvent[]): Promise<number> {
  if (events.length === 0) return 0
  const now = unixNow()
  const inserted = await tx
    .insert(jobEvents)
    .values(
      events.map((e) => ({
        id: jobIds.event(),
        jobId,
        createdAt: e.createdAt ?? now,
        level: e.level ?? 'info',
        message: e.message,
        type: e.type ?? 'message',
        data: e.data ?? {},
        idempotencyKey: e.idempotencyKey ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: jobEvents.id })
  return inserted.length
}

/** Locks a job row for the rest of the transaction; scoped to a project when one is given. */
export async function lockJob(tx: Tx, jobId: string, projectId?: string): Promise<JobRow> {
  const where = projectId ? and(eq(fineTuningJobs.id, jobId), eq(fineTuningJobs.projectId, projectId)) : eq(fineTuningJobs.id, jobId)
  const [row] = await tx.select().from(fineTuningJobs).where(where).for('update')
  if (!row) throw notFound('FineTuningJob', jobId, 'fine_tuning_job_id')
  return row
}

export class TransitionRefused extends Error {
  readonly status: string
  constructor(message: string, status: string) {
    super(message)
    this.name = 'TransitionRefused'
    this.status = status
  }
}

const WEBHOOK_TYPE: Partial<Record<JobStatus, 'fine_tuning.job.succeeded' | 'fine_tuning.job.failed' | 'fine_tuning.job.cancelled'>> = {
  succeeded: 'fine_tuning.job.succeeded',
  failed: 'fine_tuning.job.failed',
  cancelled: 'fine_tuning.job.cancelled',
}

/**
 * Moves a locked job through `action`: updates its status (plus `patch`), records `events`, and on
 * a terminal status sets finished_at and writes the webhook event. Throws TransitionRefused when
 * the state machine says no (callers turn it into a 400 or ignore it).
 */
export async function applyAction(
  tx: Tx,
  row: JobRow,
  action: JobAction,
  patch: Partial<typeof fineTuningJobs.$inferInsert> = {},
  events: NewEvent[] = [],
): Promise<JobRow> {
  if (!isJobStatus(row.status)) throw new Error(`job ${row.id} has unknown status ${row.status}`)
  const result = transition(row.status, action)
  if (!result.ok) throw new TransitionRefused(result.message, row.status)
  const now = unixNow()
  const terminal = isTerminal(result.status)
  const [updated] = await tx
    .update(fineTuningJobs)
    .set({
      ...patch,
      status: result.status,
      ...(terminal ? { finishedAt: now, estimatedFinish: null, trainerTokenHash: null, heartbeatAt: null } : {}),
    })
    .where(eq(fineTuningJobs.id, row.id))
    .returning()
  await addEvents(tx, row.id, events)
  const webhookType = WEBHOOK_TYPE[result.status]
  if (webhookType && !row.dryRun) await enqueueWebhookEvent(tx, { projectId: row.projectId, type: webhookType, data: { id: row.id } })
  return updated
}

/** applyAction for a user's request: a refused transition is a 400, as OpenAI answers. */
export async function applyUserAction(tx: Tx, row: JobRow, action: JobAction, patch: Partial<typeof fineTuningJobs.$inferInsert>, events: NewEvent[]): Promise<JobRow> {
  try {
    return await applyAction(tx, row, action, patch, events)
  } catch (err) {
    if (err instanceof TransitionRefused) throw invalidRequest(err.message, 'fine_tuning_job_id', 'invalid_job_state')
    throw err
  }
}

/** Running and pausing jobs per project, for the concurrency limits. */
export const activeStatusSql = sql`${fineTuningJobs.status} in ('running', 'pausing')`

// The API side of the trainer protocol (docs/trainer-protocol.md): what a trainer reports about
// its job. Every report is idempotent — events by the trainer's idempotency key, checkpoints by
// step, status changes by the state machine (a repeated report finds the job already there).
import type { CheckpointReport, JobState, ReportedArtifact, ReportedEvent, ReportedMetrics, StatusReport } from '../protocol/trainer-reports.ts'
import { and, asc, eq, sql } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { checkpointArtifacts, files, fineTunedModels, fineTuningJobs, jobCheckpoints, jobEvents, modelArtifacts } from '../db/schema/index.ts'
import { isArtifactName } from '../models/artifact-names.ts'
import { recordTrainingSpeed } from '../jobs/training-speed.ts'
import { ApiError, invalidRequest, unauthorized } from '../lib/errors.ts'
import { newId, unixNow } from '../lib/ids.ts'
import type { JobRow } from '../jobs/job-object.ts'
import { addEvents, applyAction, lockJob, TransitionRefused, type NewEvent } from '../jobs/job-store.ts'
import { baseModelOfName, checkpointModelName, jobIds } from '../jobs/naming.ts'
import { resultsCsv, type StepRow } from '../jobs/results-csv.ts'
import { jobOutputPrefix, trainerTokenMatches } from '../jobs/trainer-token.ts'
import { isTerminal, type JobStatus } from '../jobs/state-machine.ts'
import { fileBlobKey } from '../files/blob-key.ts'

export interface TrainerDeps {
  db: Db
  blobs: BlobStore
  /** Told how many tokens a metrics report added to its job's trained_tokens (metrics: throughput). */
  onTrainedTokens?: (jobId: string, tokens: number) => void
}

/** The job whose current attempt holds `token`; 401 for anything else (wrong job, stale attempt). */
export async function authenticateTrainer(db: Db, jobId: string, token: string | undefined): Promise<JobRow> {
  const [job] = await db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, jobId))
  if (!job || !token || !trainerTokenMatches(token, job.trainerTokenHash)) {
    throw unauthorized('This trainer token is not valid for this job (it may belong to an earlier attempt).')
  }
  return job
}

/** 409: the job moved on (cancelled, paused, finished); the trainer should stop. */
function conflict(job: { status: string }, message: string): ApiError {
  return new ApiError(409, message, { code: 'job_not_running', param: job.status })
}

export async function jobState(db: Db, job: JobRow): Promise<JobState> {
  const [latest] = await db.select().from(jobCheckpoints).where(eq(jobCheckpoints.jobId, job.id)).orderBy(sql`${jobCheckpoints.stepNumber} desc`).limit(1)
  const stop = job.status === 'pausing' ? 'pause' : isTerminal(job.status as JobStatus) || job.status === 'paused' ? 'cancel' : null
  return {
    id: job.id,
    status: job.status,
    attempt: job.attempts,
    stop,
    latest_checkpoint: latest ? { step: latest.stepNumber, blob_prefix: latest.blobPrefix } : null,
    output_prefix: jobOutputPrefix(job.projectId, job.id),
  }
}

export async function heartbeat(db: Db, job: JobRow): Promise<JobState> {
  const [row] = await db
    .update(fineTuningJobs)
    .set({ heartbeatAt: unixNow() })
    .where(and(eq(fineTuningJobs.id, job.id), sql`${fineTuningJobs.status} in ('running', 'pausing')`))
    .returning()
  return jobState(db, row ?? job)
}

export async function reportEvents(db: Db, job: JobRow, events: ReportedEvent[]): Promise<{ recorded: number }> {
  const recorded = await addEvents(
    db,
    job.id,
    events.map((e) => ({ level: e.level, message: e.message, data: e.data, idempotencyKey: `trainer:${e.idempotency_key}` })),
  )
  return { recorded }
}

/** One `metrics` event per step ("Step 10/120: training loss=0.52"); a retried report for the same step is ignored. */
export async function reportMetrics(db: Db, job: JobRow, m: ReportedMetrics, onTrainedTokens?: TrainerDeps['onTrainedTokens']): Promise<{ recorded: number }> {
  const { trained_tokens, remaining_seconds, ...data } = m
  const recorded = await db.transaction(async (tx) => {
    const n = await addEvents(tx, job.id, [
      { type: 'metrics', message: `Step ${m.step}/${m.total_steps}: training loss=${m.train_loss.toFixed(2)}`, data, idempotencyKey: `metrics:${m.step}` },
    ])
    const patch: Partial<typeof fineTuningJobs.$inferInsert> = {}
    if (trained_tokens !== undefined) patch.trainedTokens = trained_tokens
    if (remaining_seconds !== undefined) patch.estimatedFinish = unixNow() + Math.ceil(remaining_seconds)
    if (Object.keys(patch).length > 0) {
      await tx.update(fineTuningJobs).set(patch).where(and(eq(fineTuningJobs.id, job.id), sql`${fineTuningJobs.status} in ('running', 'pausing')`))
    }
    return n
  })
  // Against the row read before this report, so a retried report (or one from a resumed attempt that
  // restarted its count at a checkpoint) adds nothing.
  const added = trained_tokens === undefined ? 0 : trained_tokens - (job.trainedTokens ?? 0)
  if (added > 0) onTrainedTokens?.(job.id, added)
  return { recorded }
}

function checkInsidePrefix(job: JobRow, key: string, param: string): void {
  const prefix = jobOutputPrefix(job.projectId, job.id)
  if (!key.startsWith(prefix) || key.includes('..')) throw invalidRequest(`'${param}' must lie under the job's output prefix ${prefix}.`, param)
}

/** A reported artifact, checked: a valid name, a key under `prefix`, and a blob that is there (its size). */
async function checkArtifacts(deps: Pick<TrainerDeps, 'blobs'>, job: JobRow, reported: ReportedArtifact[], prefix: string): Promise<{ name: string; key: string; bytes: number }[]> {
  const artifacts: { name: string; key: string; bytes: number }[] = []
  for (const a of reported) {
    if (!isArtifactName(a.name)) throw invalidRequest(`Invalid artifact name '${a.name}'.`, 'artifacts.name')
    if (artifacts.some((b) => b.name === a.name)) throw invalidRequest(`Artifact '${a.name}' is listed twice.`, 'artifacts.name')
    checkInsidePrefix(job, a.key, 'artifacts.key')
    if (!a.key.startsWith(prefix)) throw invalidRequest(`'artifacts.key' must lie under ${prefix}.`, 'artifacts.key')
    const info = await deps.blobs.head(a.key)
    if (!info) throw invalidRequest(`Artifact '${a.name}' was not uploaded: no blob at ${a.key}.`, 'artifacts.key')
    artifacts.push({ ...a, bytes: info.bytes })
  }
  return artifacts
}

export async function reportCheckpoint(deps: Pick<TrainerDeps, 'db' | 'blobs'>, job: JobRow, c: CheckpointReport): Promise<{ id: string; created: boolean }> {
  checkInsidePrefix(job, c.blob_prefix, 'blob_prefix')
  if (!job.fineTunedModel) throw conflict(job, 'A dry run has no checkpoints.')
  const artifacts = await checkArtifacts(deps, job, c.artifacts ?? [], c.blob_prefix)
  return deps.db.transaction(async (tx) => {
    const id = jobIds.checkpoint()
    const now = unixNow()
    const inserted = await tx
      .insert(jobCheckpoints)
      .values({
        id,
        jobId: job.id,
        projectId: job.projectId,
        stepNumber: c.step,
        modelId: checkpointModelName(job.fineTunedModel!, c.step),
        metrics: { step: c.step, ...c.metrics },
        blobPrefix: c.blob_prefix,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: jobCheckpoints.id })
    await addEvents(tx, job.id, [{ message: `Checkpoint created at step ${c.step}`, data: { step: c.step }, idempotencyKey: `checkpoint:${c.step}` }])
    let result = { id, created: true }
    if (inserted.length === 0) {
      const [existing] = await tx.select({ id: jobCheckpoints.id }).from(jobCheckpoints).where(and(eq(jobCheckpoints.jobId, job.id), eq(jobCheckpoints.stepNumber, c.step)))
      result = { id: existing.id, created: false }
    }
    if (artifacts.length > 0) {
      await tx.insert(checkpointArtifacts)
        .values(artifacts.map((a) => ({ checkpointId: result.id, name: a.name, blobKey: a.key, bytes: a.bytes, createdAt: now })))
        .onConflictDoNothing()
    }
    return result
  })
}

/** The result file: every metrics event of the job as OpenAI's CSV, stored as a fine-tune-results file. */
async function writeResultFile(deps: TrainerDeps, job: JobRow): Promise<{ id: string; blobKey: string; bytes: number }> {
  const events = await deps.db.select({ data: jobEvents.data }).from(jobEvents).where(and(eq(jobEvents.jobId, job.id), eq(jobEvents.type, 'metrics'))).orderBy(asc(jobEvents.seq))
  const csv = Buffer.from(resultsCsv(events.map((e) => e.data as unknown as StepRow)))
  const id = newId.file()
  const blobKey = fileBlobKey(job.projectId, id)
  await deps.blobs.put(blobKey, csv, { contentType: 'text/csv' })
  return { id, blobKey, bytes: csv.length }
}

export async function reportStatus(deps: TrainerDeps, job: JobRow, report: StatusReport): Promise<JobState> {
  if (report.status === 'succeeded') return succeed(deps, job, report)
  const row = await deps.db.transaction(async (tx) => {
    const locked = await lockJob(tx, job.id)
    if (locked.status === report.status) return locked // a retried report
    try {
      if (report.status === 'failed') {
        const error = { code: report.error.code ?? 'training_failed', message: report.error.message, param: null }
        return await applyAction(tx, locked, 'fail', { error }, [{ level: 'error', message: `Fine-tuning job failed: ${report.error.message}`, idempotencyKey: 'failed' }])
      }
      const at = report.step !== undefined ? ` at step ${report.step}` : ''
      return await applyAction(tx, locked, 'paused', { heartbeatAt: null, estimatedFinish: null }, [{ message: `Fine-tuning job paused${at}`, idempotencyKey: `paused:${locked.attempts}` }])
    } catch (err) {
      if (err instanceof TransitionRefused) throw conflict(locked, `The job cannot become ${report.status}: its status is ${locked.status}.`)
      throw err
    }
  })
  return jobState(deps.db, row)
}

async function succeed(deps: TrainerDeps, job: JobRow, report: Extract<StatusReport, { status: 'succeeded' }>): Promise<JobState> {
  if (job.status === 'succeeded') return jobState(deps.db, job)
  const artifacts = await checkArtifacts(deps, job, report.artifacts, jobOutputPrefix(job.projectId, job.id))
  const result = await writeResultFile(deps, job)
  const row = await deps.db.transaction(async (tx) => {
    const locked = await lockJob(tx, job.id)
    if (locked.status === 'succeeded') return locked
    const now = unixNow()
    await tx.insert(files).values({ id: result.id, projectId: job.projectId, filename: 'step_metrics.csv', purpose: 'fine-tune-results', bytes: result.bytes, status: 'processed', blobKey: result.blobKey, createdAt: now })
    let updated: JobRow
    try {
      updated = await applyAction(tx, locked, 'succeed', { resultFiles: [result.id], trainedTokens: report.trained_tokens ?? locked.trainedTokens, stopRequested: null, evaluation: report.evaluation ?? null }, [
        { message: 'New fine-tuned model created', data: { fine_tuned_model: locked.fineTunedModel }, idempotencyKey: 'model-created' },
        { message: 'The job has successfully completed', idempotencyKey: 'succeeded' },
      ])
    } catch (err) {
      if (err instanceof TransitionRefused) throw conflict(locked, `The job cannot succeed: its status is ${locked.status}.`)
      throw err
    }
    const modelId = locked.fineTunedModel!
    await tx.insert(fineTunedModels).values({ id: modelId, projectId: job.projectId, jobId: job.id, baseModel: baseModelOfName(job.model), createdAt: now })
    if (report.speed) {
      await recordTrainingSpeed(tx, baseModelOfName(job.model), { backend: report.speed.backend, tokensPerSecond: report.speed.tokens_per_second, overheadSeconds: report.speed.overhead_seconds })
    }
    if (artifacts.length > 0) {
      await tx.insert(modelArtifacts).values(artifacts.map((a) => ({ modelId, name: a.name, blobKey: a.key, bytes: a.bytes, createdAt: now })))
    }
    return updated
  }).catch(async (err) => {
    await deps.blobs.delete(result.blobKey).catch(() => {})
    throw err
  })
  if (row.resultFiles[0] !== result.id) await deps.blobs.delete(result.blobKey).catch(() => {}) // a retried report: the first one's file stays
  return jobState(deps.db, row)
}

export type { NewEvent }

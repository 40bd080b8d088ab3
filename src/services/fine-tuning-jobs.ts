// Fine-tuning jobs as the public API sees them: create, list, retrieve, cancel, pause, resume,
// events and checkpoints. Always scoped to the caller's project; status changes go through
// job-store's applyAction (and so through the state machine) inside a transaction.
import { and, desc, eq, lt, sql } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import type { JobsConfig } from '../config/index.ts'
import { files, fineTuningJobs, jobCheckpoints, jobEvents } from '../db/schema/index.ts'
import { invalidRequest, notFound } from '../lib/errors.ts'
import { unixNow } from '../lib/ids.ts'
import { normalizeCreateJob, refuseAdapterChangesOnContinuation, type CreateJobBody } from '../jobs/create-request.ts'
import type { JobRow } from '../jobs/job-object.ts'
import { applyUserAction, lockJob } from '../jobs/job-store.ts'
import { insertJobWithEvents } from '../jobs/insert-job.ts'
import { fineTunedModelName, jobIds } from '../jobs/naming.ts'
import { formatsForMethod } from '../files/validation/fine-tune-method.ts'
import { datasetReportOf } from '../files/dataset-report.ts'
import { preparedPerDb } from '../db/prepared-statements.ts'
import { jobStartingPoint } from '../models/job-starting-point.ts'

export interface JobsDeps {
  db: Db
  jobs: JobsConfig
  /** Tells an in-process scheduler there is work (a new or resumed job); a no-op otherwise. */
  wake: () => void
}

export interface Caller {
  projectId: string
  projectName: string
}

const selectProjectFile = preparedPerDb((db) =>
  db
    .select()
    .from(files)
    .where(and(eq(files.id, sql.placeholder('id')), eq(files.projectId, sql.placeholder('projectId'))))
    .prepare('skillet_select_project_file'),
)

const selectProjectJob = preparedPerDb((db) =>
  db
    .select()
    .from(fineTuningJobs)
    .where(and(eq(fineTuningJobs.id, sql.placeholder('id')), eq(fineTuningJobs.projectId, sql.placeholder('projectId'))))
    .prepare('skillet_select_project_job'),
)

/** A file the job may use: this project's, purpose fine-tune, not failed, in a format the method trains on. */
async function checkJobFile(db: Db, projectId: string, fileId: string, param: string, method: 'supervised' | 'dpo', code = `invalid_${param}`): Promise<void> {
  const [file] = await selectProjectFile(db).execute({ id: fileId, projectId })
  if (!file) throw invalidRequest(`Invalid file: no such File object: ${fileId}.`, param, 'file_not_found')
  if (file.purpose !== 'fine-tune') {
    throw invalidRequest(`File ${fileId} has purpose '${file.purpose}'; fine-tuning files must be uploaded with purpose 'fine-tune'.`, param, code)
  }
  if (file.status === 'error') throw invalidRequest(`File ${fileId} failed validation: ${file.statusDetails ?? 'invalid file'}`, param, code)
  if (file.status !== 'processed') return // still validating: the job's own validation step decides
  const report = datasetReportOf(file)
  if (report.format !== null && !formatsForMethod(method).includes(report.format)) {
    throw invalidRequest(`File ${fileId} is in ${report.format} format, but method '${method}' needs ${formatsForMethod(method).join(' or ')} examples.`, param, code)
  }
  // The example-count rule is applied when the job validates (the job fails with invalid_n_examples), as OpenAI does.
}

export async function createJob(deps: JobsDeps, caller: Caller, body: CreateJobBody): Promise<JobRow> {
  const req = normalizeCreateJob(body)
  // A base model, or one of the project's fine-tuned / checkpoint models to continue from.
  const start = await jobStartingPoint({ db: deps.db, baseModels: deps.jobs.baseModels }, caller.projectId, req.model, req.method.type)
  if (start.initAdapter) refuseAdapterChangesOnContinuation(req.method, req.model)
  await checkJobFile(deps.db, caller.projectId, req.trainingFile, 'training_file', req.method.type)
  if (req.validationFile) await checkJobFile(deps.db, caller.projectId, req.validationFile, 'validation_file', req.method.type)
  const forgetting = (req.method.type === 'supervised' ? req.method.supervised : req.method.dpo).hyperparameters.forgetting_file
  // Scored as supervised text whatever the method (its loss on reference answers).
  if (forgetting) await checkJobFile(deps.db, caller.projectId, forgetting, `method.${req.method.type}.hyperparameters.forgetting_file`, 'supervised', 'invalid_forgetting_file')
  const now = unixNow()
  const id = jobIds.job()
  const row = await insertJobWithEvents(
    deps.db,
    {
      id,
      projectId: caller.projectId,
      model: req.model,
      trainingFile: req.trainingFile,
      validationFile: req.validationFile,
      suffix: req.suffix,
      seed: req.seed,
      metadata: req.metadata,
      method: req.method,
      integrations: req.integrations,
      dryRun: req.dryRun,
      status: 'validating_files',
      fineTunedModel: req.dryRun ? null : fineTunedModelName(start.baseModel, caller.projectName, req.suffix),
      createdAt: now,
      runAfter: now,
    },
    [
      { message: `Created fine-tuning job: ${id}`, idempotencyKey: 'created' },
      { message: `Validating training file: ${req.trainingFile}`, idempotencyKey: 'validating-training' },
      ...(req.validationFile ? [{ message: `Validating validation file: ${req.validationFile}`, idempotencyKey: 'validating-validation' }] : []),
    ],
  )
  deps.wake()
  return row
}

export async function getJob(deps: { db: Db }, projectId: string, jobId: string): Promise<JobRow> {
  const [row] = await selectProjectJob(deps.db).execute({ id: jobId, projectId })
  if (!row) throw notFound('FineTuningJob', jobId, 'fine_tuning_job_id')
  return row
}

export async function listJobs(
  deps: { db: Db },
  projectId: string,
  q: { after?: string; limit: number; metadata: Record<string, string> },
): Promise<{ data: JobRow[]; hasMore: boolean }> {
  const conditions = [eq(fineTuningJobs.projectId, projectId)]
  if (q.after) {
    const cursor = await getJob(deps, projectId, q.after).catch(() => {
      throw invalidRequest(`No such FineTuningJob object: ${q.after} (used as the 'after' cursor).`, 'after')
    })
    conditions.push(lt(fineTuningJobs.seq, cursor.seq))
  }
  if (Object.keys(q.metadata).length > 0) conditions.push(sql`${fineTuningJobs.metadata} @> ${JSON.stringify(q.metadata)}::jsonb`)
  const rows = await deps.db
    .select()
    .from(fineTuningJobs)
    .where(and(...conditions))
    .orderBy(desc(fineTuningJobs.seq))
    .limit(q.limit + 1)
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit }
}

export async function cancelJob(deps: JobsDeps, projectId: string, jobId: string): Promise<JobRow> {
  return deps.db.transaction(async (tx) => {
    const row = await lockJob(tx, jobId, projectId)
    return applyUserAction(tx, row, 'cancel', { stopRequested: 'cancel' }, [{ message: 'Fine-tuning job cancelled', idempotencyKey: 'cancelled' }])
  })
}

export async function pauseJob(deps: JobsDeps, projectId: string, jobId: string): Promise<JobRow> {
  return deps.db.transaction(async (tx) => {
    const row = await lockJob(tx, jobId, projectId)
    // A queued job has no trainer: it is paused at once. A running one is asked to checkpoint and stop.
    const message = row.status === 'queued' ? 'Fine-tuning job paused' : 'Pausing fine-tuning job: saving a checkpoint'
    return applyUserAction(tx, row, 'pause', { stopRequested: 'pause', estimatedFinish: null }, [{ message }])
  })
}

export async function resumeJob(deps: JobsDeps, projectId: string, jobId: string): Promise<JobRow> {
  const row = await deps.db.transaction(async (tx) => {
    const locked = await lockJob(tx, jobId, projectId)
    return applyUserAction(tx, locked, 'resume', { stopRequested: null, runAfter: unixNow() }, [{ message: 'Resuming fine-tuning job' }])
  })
  deps.wake()
  return row
}

export type EventRow = typeof jobEvents.$inferSelect

export async function listEvents(deps: { db: Db }, projectId: string, jobId: string, q: { after?: string; limit: number }): Promise<{ data: EventRow[]; hasMore: boolean }> {
  await getJob(deps, projectId, jobId)
  const conditions = [eq(jobEvents.jobId, jobId)]
  if (q.after) {
    const [cursor] = await deps.db.select({ seq: jobEvents.seq }).from(jobEvents).where(and(eq(jobEvents.id, q.after), eq(jobEvents.jobId, jobId)))
    if (!cursor) throw invalidRequest(`No such event: ${q.after} (used as the 'after' cursor).`, 'after')
    conditions.push(lt(jobEvents.seq, cursor.seq))
  }
  const rows = await deps.db.select().from(jobEvents).where(and(...conditions)).orderBy(desc(jobEvents.seq)).limit(q.limit + 1)
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit }
}

export type CheckpointRow = typeof jobCheckpoints.$inferSelect

export async function listCheckpoints(deps: { db: Db }, projectId: string, jobId: string, q: { after?: string; limit: number }): Promise<{ data: CheckpointRow[]; hasMore: boolean }> {
  await getJob(deps, projectId, jobId)
  const conditions = [eq(jobCheckpoints.jobId, jobId)]
  if (q.after) {
    const [cursor] = await deps.db.select({ step: jobCheckpoints.stepNumber }).from(jobCheckpoints).where(and(eq(jobCheckpoints.id, q.after), eq(jobCheckpoints.jobId, jobId)))
    if (!cursor) throw invalidRequest(`No such checkpoint: ${q.after} (used as the 'after' cursor).`, 'after')
    conditions.push(lt(jobCheckpoints.stepNumber, cursor.step))
  }
  const rows = await deps.db.select().from(jobCheckpoints).where(and(...conditions)).orderBy(desc(jobCheckpoints.stepNumber)).limit(q.limit + 1)
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit }
}

export function toJobEvent(row: EventRow) {
  return { object: 'fine_tuning.job.event' as const, id: row.id, created_at: row.createdAt, level: row.level as 'info' | 'warn' | 'error', message: row.message, type: row.type as 'message' | 'metrics', data: row.data }
}

export function toJobCheckpoint(row: CheckpointRow) {
  return {
    object: 'fine_tuning.job.checkpoint' as const,
    id: row.id,
    created_at: row.createdAt,
    fine_tuned_model_checkpoint: row.modelId,
    fine_tuning_job_id: row.jobId,
    step_number: row.stepNumber,
    metrics: row.metrics,
  }
}

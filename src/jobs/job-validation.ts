// validating_files → queued (or failed): once the job's files finished their own validation, check
// they suit the method, resolve 'auto' hyperparameters, estimate the run and queue the job.
// Run by the scheduler; safe to run twice or on several replicas (the row is locked, SKIP LOCKED).
import { and, eq } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import type { JobsConfig } from '../config/index.ts'
import { files, fineTuningJobs } from '../db/schema/index.ts'
import { unixNow } from '../lib/ids.ts'
import { datasetProblemForMethod, MIN_TRAINING_EXAMPLES } from '../files/validation/fine-tune-method.ts'
import { resolveHyperparameters } from '../protocol/auto-hyperparameters.ts'
import { estimateEventData, estimateJob, estimateMessage } from './estimate.ts'
import { baseModelOfName } from './naming.ts'
import { trainingSpeedFor } from './training-speed.ts'
import { hyperparametersOf, trainingExtensions, type JobRow } from './job-object.ts'
import { applyAction, type Tx } from './job-store.ts'
import { datasetReportOf } from '../files/dataset-report.ts'
import type { TokenCount } from '../trainer/run/token-count.ts'
import type { TokenizerFingerprint } from '../trainer/tokenizer/tokenizer-fingerprint.ts'

/** A training file's token count with the job's base model tokenizer (src/models/token-counts.ts). */
export type TokenCountOutcome =
  | { state: 'counted'; count: TokenCount; fingerprint: TokenizerFingerprint }
  /** Counting in the background; the job is validated once it is done. */
  | { state: 'pending' }
  /** No tokenizer to count with (e.g. a Hub model not fetched yet): the estimate falls back to characters / 4. */
  | { state: 'unavailable'; reason: string }
  /** A line the tokenizer or chat template cannot encode: the trainer could not train on it either. */
  | { state: 'failed'; message: string }

export type TokenCountLookup = (job: JobRow, file: { id: string; blobKey: string }) => Promise<TokenCountOutcome>

type Outcome = { ok: true; examples: number; tokens: number } | { ok: false; code: string; message: string; param: string } | { pending: true }

async function checkFile(tx: Tx, job: JobRow, fileId: string, role: 'training' | 'validation' | 'forgetting'): Promise<Outcome> {
  const [file] = await tx.select().from(files).where(and(eq(files.id, fileId), eq(files.projectId, job.projectId)))
  const param = `${role}_file`
  const code = `invalid_${role}_file`
  if (!file) return { ok: false, code, param, message: `The ${role} file ${fileId} no longer exists.` }
  if (file.status === 'uploaded') return { pending: true }
  const report = datasetReportOf(file)
  if (!report.ok) return { ok: false, code, param, message: `The ${role} file ${fileId} is invalid: ${file.statusDetails ?? 'it failed validation'}` }
  // The forgetting file is scored as supervised text whatever the method.
  const problem = datasetProblemForMethod(report, role === 'forgetting' ? 'supervised' : job.method.type, role === 'training' ? MIN_TRAINING_EXAMPLES : 1)
  if (problem) {
    const tooFew = report.examples < MIN_TRAINING_EXAMPLES && role === 'training' && problem.includes('at least')
    return { ok: false, code: tooFew ? 'invalid_n_examples' : code, param, message: `The ${role} file ${fileId} cannot be used: ${problem}.` }
  }
  return { ok: true, examples: report.examples, tokens: report.stats?.estimatedTokens ?? 0 }
}

/**
 * The training file's token count, looked up before the job's transaction (counting is slow and
 * runs in the background); undefined when there is nothing to look up yet or no counter.
 */
async function tokenCountOf(deps: { db: Db; countTokens?: TokenCountLookup }, jobId: string): Promise<TokenCountOutcome | undefined> {
  if (!deps.countTokens) return undefined
  const [job] = await deps.db.select().from(fineTuningJobs).where(and(eq(fineTuningJobs.id, jobId), eq(fineTuningJobs.status, 'validating_files')))
  if (!job) return undefined
  const [file] = await deps.db.select().from(files).where(and(eq(files.id, job.trainingFile), eq(files.projectId, job.projectId)))
  if (!file || file.status !== 'processed') return undefined
  return deps.countTokens(job, { id: file.id, blobKey: file.blobKey })
}

/** Validates one job if it is waiting and not locked by someone else. Returns the new status, or null. */
export async function validateJob(deps: { db: Db; jobs: JobsConfig; countTokens?: TokenCountLookup }, jobId: string): Promise<string | null> {
  const counted = await tokenCountOf(deps, jobId)
  if (counted?.state === 'pending') return null
  return deps.db.transaction(async (tx) => {
    const [job] = await tx.select().from(fineTuningJobs).where(and(eq(fineTuningJobs.id, jobId), eq(fineTuningJobs.status, 'validating_files'))).for('update', { skipLocked: true })
    if (!job) return null
    const training = await checkFile(tx, job, job.trainingFile, 'training')
    const validation: Outcome = job.validationFile ? await checkFile(tx, job, job.validationFile, 'validation') : { ok: true, examples: 0, tokens: 0 }
    const forgettingFile = hyperparametersOf(job).forgetting_file
    const forgetting: Outcome = forgettingFile ? await checkFile(tx, job, forgettingFile, 'forgetting') : { ok: true, examples: 0, tokens: 0 }
    for (const outcome of [training, validation, forgetting]) {
      if ('pending' in outcome) return null
      if (!outcome.ok) {
        const error = { code: outcome.code, message: outcome.message, param: outcome.param }
        await applyAction(tx, job, 'fail', { error }, [{ level: 'error', message: outcome.message, idempotencyKey: 'validation-failed' }])
        return 'failed'
      }
    }
    if (!('ok' in training) || !training.ok) return null
    if (counted?.state === 'failed') {
      const message = `The training file ${job.trainingFile} cannot be trained on: ${counted.message}.`
      await applyAction(tx, job, 'fail', { error: { code: 'invalid_training_file', message, param: 'training_file' } }, [{ level: 'error', message, idempotencyKey: 'validation-failed' }])
      return 'failed'
    }
    const tokenCount = counted?.state === 'counted' ? counted.count : null
    if (tokenCount) training.tokens = tokenCount.tokens
    const requested = hyperparametersOf(job)
    const resolved = resolveHyperparameters({
      nEpochs: requested.n_epochs ?? 'auto',
      batchSize: requested.batch_size ?? 'auto',
      learningRateMultiplier: requested.learning_rate_multiplier ?? 'auto',
    }, { examples: training.examples, tokens: training.tokens })
    const hyper = {
      n_epochs: resolved.nEpochs,
      batch_size: resolved.batchSize,
      learning_rate_multiplier: resolved.learningRateMultiplier,
      ...(job.method.type === 'dpo' ? { beta: requested.beta === 'auto' || requested.beta === undefined ? 0.1 : requested.beta } : {}),
      ...trainingExtensions(requested),
    }
    const estimate = {
      ...estimateJob({ examples: training.examples, tokens: training.tokens }, hyper, await trainingSpeedFor(tx, baseModelOfName(job.model), deps.jobs.estimateTokensPerSecond)),
      ...(tokenCount
        ? { counted: 'tokenizer' as const, exampleTokens: { p50: tokenCount.p50, p95: tokenCount.p95, max: tokenCount.max }, truncatedExamples: tokenCount.truncated, maxLength: tokenCount.maxLength }
        : { counted: 'characters' as const, ...(counted?.state === 'unavailable' ? { fallbackReason: counted.reason } : {}) }),
    }
    const now = unixNow()
    const estimateEvent = {
      message: estimateMessage(estimate, hyper.n_epochs),
      data: estimateEventData(estimate, hyper.n_epochs),
      idempotencyKey: 'estimate',
    }
    if (job.dryRun) {
      await applyAction(tx, job, 'validated_dry_run', { resolvedHyperparameters: hyper, estimate }, [
        { message: 'Files validated', idempotencyKey: 'validated' },
        estimateEvent,
        { message: 'Dry run complete: the job was validated and estimated, and nothing was trained', idempotencyKey: 'dry-run-done' },
      ])
      return 'succeeded'
    }
    await applyAction(tx, job, 'validated', { resolvedHyperparameters: hyper, estimate, estimatedFinish: now + estimate.estimatedSeconds, runAfter: now }, [
      { message: 'Files validated, moving job to queued state', idempotencyKey: 'validated' },
      estimateEvent,
    ])
    return 'queued'
  })
}

/** Jobs waiting for validation, oldest first. */
export async function jobsToValidate(db: Db, limit = 20): Promise<string[]> {
  const rows = await db.select({ id: fineTuningJobs.id }).from(fineTuningJobs).where(eq(fineTuningJobs.status, 'validating_files')).orderBy(fineTuningJobs.seq).limit(limit)
  return rows.map((r) => r.id)
}

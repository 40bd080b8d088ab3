// A job row as OpenAI's FineTuningJob object. Hyperparameters read 'auto' until the files are
// validated and then the numbers training uses; fine_tuned_model appears once the job succeeded.
import { estimateEventData } from './estimate.ts'
import type { fineTuningJobs, RequestedHyperparameters, TrainingExtensions } from '../db/schema/jobs.ts'

export type JobRow = typeof fineTuningJobs.$inferSelect

export function hyperparametersOf(row: JobRow): RequestedHyperparameters {
  const requested = row.method.type === 'supervised' ? row.method.supervised.hyperparameters : row.method.dpo.hyperparameters
  return row.resolvedHyperparameters ?? requested
}

/** The Skillet extensions among a job's hyperparameters (those it set; the rest are defaults). */
export function trainingExtensions(h: RequestedHyperparameters): TrainingExtensions {
  const { adapter, lora_r, lora_alpha, lora_dropout, lora_target_modules, gguf_type } = h
  return Object.fromEntries(Object.entries({ adapter, lora_r, lora_alpha, lora_dropout, lora_target_modules, gguf_type }).filter(([, v]) => v !== undefined))
}

export function toFineTuningJob(row: JobRow) {
  const hyper = hyperparametersOf(row)
  const { beta, ...common } = hyper
  const method =
    row.method.type === 'supervised'
      ? { type: 'supervised' as const, supervised: { hyperparameters: common } }
      : { type: 'dpo' as const, dpo: { hyperparameters: { ...common, beta: beta ?? 'auto' } } }
  return {
    object: 'fine_tuning.job' as const,
    id: row.id,
    model: row.model,
    created_at: row.createdAt,
    finished_at: row.finishedAt,
    fine_tuned_model: row.status === 'succeeded' && !row.dryRun ? row.fineTunedModel : null,
    organization_id: row.projectId,
    result_files: row.resultFiles,
    status: row.status,
    validation_file: row.validationFile,
    training_file: row.trainingFile,
    hyperparameters: common,
    trained_tokens: row.trainedTokens,
    error: row.error,
    seed: row.seed,
    estimated_finish: row.estimatedFinish,
    integrations: row.integrations,
    method,
    metadata: row.metadata,
    user_provided_suffix: row.suffix,
    /** Skillet extensions: the pre-training estimate, and whether this was a dry run. */
    estimate: row.estimate ? estimateEventData(row.estimate, hyper.n_epochs === 'auto' ? 1 : (hyper.n_epochs ?? 1)) : null,
    dry_run: row.dryRun,
  }
}

export type FineTuningJobObject = ReturnType<typeof toFineTuningJob>

// A job row as OpenAI's FineTuningJob object. Hyperparameters read 'auto' until the files are
// validated and then the numbers training uses; fine_tuned_model appears once the job succeeded.
import { estimateEventData } from './estimate.ts'
import type { fineTuningJobs, RequestedHyperparameters, TrainingExtensions } from '../db/schema/jobs.ts'
import { checkpointModelName } from './naming.ts'

export type JobRow = typeof fineTuningJobs.$inferSelect

export function hyperparametersOf(row: JobRow): RequestedHyperparameters {
  const requested = row.method.type === 'supervised' ? row.method.supervised.hyperparameters : row.method.dpo.hyperparameters
  return row.resolvedHyperparameters ?? requested
}

/** The Skillet extensions among a job's hyperparameters (those it set; the rest are defaults). */
export function trainingExtensions(h: RequestedHyperparameters): TrainingExtensions {
  const { adapter, qlora_bits, lora_r, lora_alpha, lora_dropout, lora_target_modules, gguf_type, eval_every, early_stopping_patience, early_stopping_min_delta, best_checkpoint_metric, serve_checkpoint, forgetting_file,
    eval_graders, eval_json_schema, eval_max_examples, eval_max_new_tokens } = h
  return Object.fromEntries(Object.entries({ adapter, qlora_bits, lora_r, lora_alpha, lora_dropout, lora_target_modules, gguf_type, eval_every, early_stopping_patience, early_stopping_min_delta, best_checkpoint_metric, serve_checkpoint, forgetting_file,
    eval_graders, eval_json_schema, eval_max_examples, eval_max_new_tokens })
    .filter(([, v]) => v !== undefined))
}

/**
 * The job's evaluation (an extension; null until it succeeds): the best checkpoint and the model the
 * fine-tuned model serves, by their checkpoint model names, the early stop, and the forgetting check.
 */
export function evaluationOf(row: JobRow) {
  const e = row.evaluation
  if (!e || !row.fineTunedModel || row.status !== 'succeeded') return null
  const name = (step: number) => checkpointModelName(row.fineTunedModel!, step)
  return {
    best_checkpoint: e.best_checkpoint ? { step_number: e.best_checkpoint.step, fine_tuned_model_checkpoint: name(e.best_checkpoint.step), metric: e.best_checkpoint.metric, value: e.best_checkpoint.value } : null,
    served_step: e.served_step,
    stopped_early: e.stopped_early ? { step_number: e.stopped_early.step, reason: e.stopped_early.reason } : null,
    forgetting: e.forgetting,
  }
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
    evaluation: evaluationOf(row),
  }
}

export type FineTuningJobObject = ReturnType<typeof toFineTuningJob>

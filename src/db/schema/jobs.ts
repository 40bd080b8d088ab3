// Fine-tuning jobs and what they produce: events, checkpoints, fine-tuned models and their artifacts.
// The jobs table is also the work queue: a scheduler claims `queued` rows whose `run_after` has
// passed with FOR UPDATE SKIP LOCKED (src/running/scheduler/claim.ts), and running jobs keep `heartbeat_at` fresh.
import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { projects } from './core.ts'
import type { ReportedEvaluation } from '../../protocol/trainer-reports.ts'

const unixSeconds = (name: string) => bigint(name, { mode: 'number' })

export const fineTuningJobs = pgTable(
  'fine_tuning_jobs',
  {
    id: text('id').primaryKey(),
    /** Insertion order, for stable cursor pagination and FIFO claiming. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    trainingFile: text('training_file').notNull(),
    validationFile: text('validation_file'),
    suffix: text('suffix'),
    seed: integer('seed').notNull(),
    metadata: jsonb('metadata').$type<Record<string, string> | null>(),
    /** The method as requested: {type, supervised|dpo: {hyperparameters}}, values may be 'auto'. */
    method: jsonb('method').$type<RequestedMethod>().notNull(),
    /** Numbers, once the files are validated; null before. */
    resolvedHyperparameters: jsonb('resolved_hyperparameters').$type<ResolvedJobHyperparameters | null>(),
    integrations: jsonb('integrations').$type<unknown[] | null>(),
    dryRun: boolean('dry_run').notNull().default(false),
    status: text('status').notNull(),
    error: jsonb('error').$type<{ code: string; message: string; param: string | null } | null>(),
    fineTunedModel: text('fine_tuned_model'),
    trainedTokens: bigint('trained_tokens', { mode: 'number' }),
    /** Token count, total steps and estimated seconds, computed before training. */
    estimate: jsonb('estimate').$type<JobEstimate | null>(),
    estimatedFinish: unixSeconds('estimated_finish'),
    /** What the trainer's evaluation concluded (best checkpoint, early stop, forgetting check), set when the job succeeds. */
    evaluation: jsonb('evaluation').$type<JobEvaluation | null>(),
    resultFiles: jsonb('result_files').$type<string[]>().notNull().default([]),
    createdAt: unixSeconds('created_at').notNull(),
    finishedAt: unixSeconds('finished_at'),
    // --- queue bookkeeping ---
    /** A queued job is not claimed before this time (retry backoff). */
    runAfter: unixSeconds('run_after').notNull(),
    /** Attempts started so far; a retried attempt resumes from the latest checkpoint. */
    attempts: integer('attempts').notNull().default(0),
    /** The scheduler instance that launched the current attempt. */
    leaseOwner: text('lease_owner'),
    heartbeatAt: unixSeconds('heartbeat_at'),
    /** SHA-256 (hex) of the current attempt's trainer token; a new attempt gets a new token. */
    trainerTokenHash: text('trainer_token_hash'),
    /** Set when a pause or cancel must reach a trainer (the scheduler stops it, the trainer polls it). */
    stopRequested: text('stop_requested'),
  },
  (t) => [
    index('fine_tuning_jobs_project_seq_idx').on(t.projectId, t.seq),
    index('fine_tuning_jobs_runnable_idx').on(t.seq).where(sql`status = 'queued'`),
    index('fine_tuning_jobs_active_idx').on(t.status, t.projectId).where(sql`status in ('running', 'pausing')`),
    uniqueIndex('fine_tuning_jobs_fine_tuned_model_idx').on(t.fineTunedModel),
  ],
)

/**
 * Skillet's extensions to a method's hyperparameters (absent: the trainer's defaults): full
 * fine-tuning or LoRA and its shape, the GGUF file types to export, and how the run is evaluated.
 */
export interface TrainingExtensions {
  adapter?: 'lora' | 'qlora' | 'full'
  /** QLoRA: 4 or 8 bits for the frozen base. */
  qlora_bits?: number
  lora_r?: number
  lora_alpha?: number
  lora_dropout?: number
  lora_target_modules?: string[]
  gguf_type?: string[]
  /** Validation schedule, early stopping and the served checkpoint (src/protocol/checkpoint-metrics.ts). */
  eval_every?: number
  early_stopping_patience?: number
  early_stopping_min_delta?: number
  best_checkpoint_metric?: string
  serve_checkpoint?: 'best' | 'last'
  /** A fine-tune file (chat or prompt/completion) for the forgetting check, instead of the shipped texts. */
  forgetting_file?: string
  /** The answer evaluation at each checkpoint (src/protocol/answer-eval-settings.ts). */
  eval_graders?: string[]
  eval_json_schema?: Record<string, unknown>
  eval_max_examples?: number
  eval_max_new_tokens?: number
}

export interface RequestedHyperparameters extends TrainingExtensions {
  n_epochs?: number | 'auto'
  batch_size?: number | 'auto'
  learning_rate_multiplier?: number | 'auto'
  beta?: number | 'auto'
}

export type RequestedMethod =
  | { type: 'supervised'; supervised: { hyperparameters: RequestedHyperparameters } }
  | { type: 'dpo'; dpo: { hyperparameters: RequestedHyperparameters } }

export interface ResolvedJobHyperparameters extends TrainingExtensions {
  n_epochs: number
  batch_size: number
  learning_rate_multiplier: number
  beta?: number
}

/** The trainer's evaluation of a succeeded job, as it reported it (src/protocol/trainer-reports.ts). */
export type JobEvaluation = ReportedEvaluation

export interface JobEstimate {
  /** Training tokens in one epoch: the trainer's count (tokenizer), or characters / 4 without one. */
  tokens: number
  examples: number
  totalSteps: number
  estimatedSeconds: number
  /** How `tokens` was counted; absent in estimates from before the tokenizer count. */
  counted?: 'tokenizer' | 'characters'
  /** With the tokenizer: example lengths in tokens before truncation, and how many exceed the context. */
  exampleTokens?: { p50: number; p95: number; max: number }
  truncatedExamples?: number
  maxLength?: number
  /** Why the tokenizer could not count (counted: 'characters'). */
  fallbackReason?: string
  /** The speed estimatedSeconds came from (src/jobs/training-speed.ts). */
  speed?: { tokensPerSecond: number; overheadSeconds: number; backend: string | null; jobs: number }
}

export const jobEvents = pgTable(
  'job_events',
  {
    id: text('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    jobId: text('job_id')
      .notNull()
      .references(() => fineTuningJobs.id, { onDelete: 'cascade' }),
    createdAt: unixSeconds('created_at').notNull(),
    level: text('level').notNull(),
    message: text('message').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    /** Chosen by whoever reports the event; a retried report with the same key is ignored. */
    idempotencyKey: text('idempotency_key'),
  },
  (t) => [index('job_events_job_seq_idx').on(t.jobId, t.seq), uniqueIndex('job_events_idempotency_idx').on(t.jobId, t.idempotencyKey)],
)

export const jobCheckpoints = pgTable(
  'job_checkpoints',
  {
    id: text('id').primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => fineTuningJobs.id, { onDelete: 'cascade' }),
    projectId: text('project_id').notNull(),
    stepNumber: integer('step_number').notNull(),
    /** The checkpoint's model id: "{fine_tuned_model}:ckpt-step-{n}". */
    modelId: text('model_id').notNull(),
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull(),
    /** Blob prefix of the checkpoint's files (inside the job's output prefix). */
    blobPrefix: text('blob_prefix').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [uniqueIndex('job_checkpoints_job_step_idx').on(t.jobId, t.stepNumber), uniqueIndex('job_checkpoints_model_idx').on(t.modelId)],
)

/**
 * Downloadable files of a checkpoint model (LoRA adapter, GGUF, Modelfile), registered with the
 * checkpoint. The checkpoint model is visible while its job's fine-tuned model exists.
 */
export const checkpointArtifacts = pgTable(
  'checkpoint_artifacts',
  {
    checkpointId: text('checkpoint_id')
      .notNull()
      .references(() => jobCheckpoints.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    blobKey: text('blob_key').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.checkpointId, t.name] })],
)

/** A fine-tuned model: written in the same transaction that moves its job to succeeded. */
export const fineTunedModels = pgTable(
  'fine_tuned_models',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    jobId: text('job_id').notNull(),
    baseModel: text('base_model').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [index('fine_tuned_models_project_idx').on(t.projectId, t.createdAt)],
)

/** Downloadable files of a fine-tuned model (LoRA adapter, merged weights, GGUF). */
export const modelArtifacts = pgTable(
  'model_artifacts',
  {
    modelId: text('model_id')
      .notNull()
      .references(() => fineTunedModels.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    blobKey: text('blob_key').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.name] })],
)

/** Base models fetched once from a Hugging Face Hub repo into the blob store. */
export const hubModelCache = pgTable('hub_model_cache', {
  repo: text('repo').primaryKey(),
  revision: text('revision').notNull(),
  blobPrefix: text('blob_prefix').notNull(),
  fetchedAt: unixSeconds('fetched_at').notNull(),
})

/**
 * The training speed measured on finished jobs, per base model and trainer backend: steady-state
 * tokens per second and the seconds a job spends besides training (start, model load, exports).
 * The estimate before training reads the latest one for the job's base model (src/jobs/training-speed.ts).
 */
export const trainingSpeeds = pgTable(
  'training_speeds',
  {
    baseModel: text('base_model').notNull(),
    backend: text('backend').notNull(),
    tokensPerSecond: doublePrecision('tokens_per_second').notNull(),
    overheadSeconds: doublePrecision('overhead_seconds').notNull(),
    /** Finished jobs the figures come from (a moving average over them). */
    jobs: integer('jobs').notNull(),
    updatedAt: unixSeconds('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.baseModel, t.backend] })],
)

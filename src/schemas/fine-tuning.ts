// Wire schemas of /v1/fine_tuning/jobs. Request bodies are checked for shape here; ranges and
// limits are checked in src/jobs/create-request.ts, which names the offending `param` precisely.
import { Type, type Static } from 'typebox'
import { Unixtime } from './common.ts'
import { ANSWER_EVAL_DEFAULTS, ANSWER_EVAL_LIMITS, ANSWER_GRADERS } from '../protocol/answer-eval-settings.ts'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])
const AutoOrNumber = Type.Union([Type.Literal('auto'), Type.Number()])
/** Skillet's extensions to a method's hyperparameters (ranges are checked in src/jobs/create-request.ts). */
const TrainingExtensions = {
  adapter: Type.Optional(Type.String({ description: "Skillet extension: 'lora' (default: LoRA adapters on the frozen base), 'qlora' (LoRA adapters on a base held quantised, see qlora_bits) or 'full' (every weight; supervised only)." })),
  qlora_bits: Type.Optional(Type.Number({ description: "Skillet extension: with adapter 'qlora', the frozen base's bits: 8 (int8 per output channel) or 4 (default: 4-bit blocks of 32, llama.cpp's Q4_0 rule)." })),
  lora_r: Type.Optional(Type.Number({ description: 'Skillet extension: LoRA rank, an integer 1–256 (default 8).' })),
  lora_alpha: Type.Optional(Type.Number({ description: 'Skillet extension: LoRA alpha, > 0 and ≤ 4096 (default 16); the update is scaled by alpha / r.' })),
  lora_dropout: Type.Optional(Type.Number({ description: 'Skillet extension: dropout on the LoRA input, 0 ≤ p < 1 (default 0.05).' })),
  lora_target_modules: Type.Optional(Type.Array(Type.String(), { description: 'Skillet extension: the projections to adapt, by Hugging Face module name (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj; Phi-3: qkv_proj, o_proj, gate_up_proj, down_proj; GPT-2: c_attn, c_proj, c_fc). Default: all of the architecture\'s.' })),
  gguf_type: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: "Skillet extension: the GGUF file(s) to export, one of 'F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_K_M' or a list of them. Default: the trainer's SKILLET_TRAINER_GGUF_TYPE (F16)." })),
  eval_every: Type.Optional(Type.Union([Type.Literal('auto'), Type.Number()], { description: 'Skillet extension: validate on a fixed sample of the validation file (up to 64 examples) every N optimizer steps, an integer 1–1000000, or \'auto\' (the default: ceil(total steps / 20), 10–20 points per job); also at each epoch end and checkpoint. Needs a validation_file.' })),
  early_stopping_patience: Type.Optional(Type.Number({ description: 'Skillet extension: stop training after this many validation points in a row (an integer 1–1000) without the validation loss improving by more than early_stopping_min_delta; the job succeeds with the best checkpoint. Default: no early stopping. Needs a validation_file.' })),
  early_stopping_min_delta: Type.Optional(Type.Number({ description: 'Skillet extension: the improvement of the validation loss (≥ 0, default 0) that resets early stopping\'s patience. Only with early_stopping_patience.' })),
  best_checkpoint_metric: Type.Optional(Type.String({ description: "Skillet extension: the checkpoint metric the best checkpoint is chosen by: 'valid_loss' (default), 'valid_mean_token_accuracy', 'full_valid_loss', 'full_valid_mean_token_accuracy', or an answer evaluation score (eval_exact_match, eval_fuzzy_match, … — its grader must be among eval_graders). Needs a validation_file." })),
  forgetting_file: Type.Optional(Type.String({ description: "Skillet extension: a file (purpose fine-tune, chat or prompt/completion examples) of general text for the forgetting check, scored on its assistant messages / completions. Default: the 24 general English sentences Skillet ships." })),
  serve_checkpoint: Type.Optional(Type.String({ description: "Skillet extension: 'best' (default: the fine-tuned model is the best checkpoint's weights) or 'last' (the last step's)." })),
  eval_graders: Type.Optional(Type.Array(Type.String(), { description: `Skillet extension: how each checkpoint's greedy answers to the validation file's prompts are scored against the reference assistant messages, by grader name: ${ANSWER_GRADERS.join(', ')}. Scores go into the checkpoint's metrics as eval_<name>. Default: exact_match and fuzzy_match, plus valid_json when every reference answer is a JSON object or array; [] turns the evaluation off. Needs a validation_file.` })),
  eval_json_schema: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: `Skillet extension: the JSON Schema (draft 2020-12, at most ${ANSWER_EVAL_LIMITS.maxJsonSchemaBytes} bytes) the json_schema grader checks answers against; required with it.` })),
  eval_max_examples: Type.Optional(Type.Number({ description: `Skillet extension: validation examples answered at each checkpoint, the file's first ones, 1–${ANSWER_EVAL_LIMITS.maxExamples} (default ${ANSWER_EVAL_DEFAULTS.maxExamples}).` })),
  eval_max_new_tokens: Type.Optional(Type.Number({ description: `Skillet extension: the most tokens of one answer, 1–${ANSWER_EVAL_LIMITS.maxNewTokens} (default ${ANSWER_EVAL_DEFAULTS.maxNewTokens}); an answer also stops at its reference's length in tokens · 1.25 + 8.` })),
}
const Hyperparameters = Type.Object(
  { n_epochs: Type.Optional(AutoOrNumber), batch_size: Type.Optional(AutoOrNumber), learning_rate_multiplier: Type.Optional(AutoOrNumber), beta: Type.Optional(AutoOrNumber), ...TrainingExtensions },
  { additionalProperties: true },
)

export const CreateFineTuningJobRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  training_file: Type.String({ minLength: 1 }),
  validation_file: Type.Optional(Nullable(Type.String())),
  suffix: Type.Optional(Nullable(Type.String())),
  seed: Type.Optional(Nullable(Type.Integer())),
  metadata: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
  hyperparameters: Type.Optional(Hyperparameters),
  method: Type.Optional(
    Type.Object({
      type: Type.String(),
      supervised: Type.Optional(Type.Object({ hyperparameters: Type.Optional(Hyperparameters) })),
      dpo: Type.Optional(Type.Object({ hyperparameters: Type.Optional(Hyperparameters) })),
      reinforcement: Type.Optional(Type.Unknown()),
    }),
  ),
  integrations: Type.Optional(
    Nullable(
      Type.Array(
        Type.Object({
          type: Type.Literal('wandb'),
          wandb: Type.Object({
            project: Type.String(),
            name: Type.Optional(Nullable(Type.String())),
            entity: Type.Optional(Nullable(Type.String())),
            tags: Type.Optional(Type.Array(Type.String())),
          }),
        }),
      ),
    ),
  ),
  dry_run: Type.Optional(Type.Boolean({ description: 'Skillet extension: validate the files and estimate the run, without training.' })),
})

/** Skillet extension: the estimate made before training (also the data of the "Estimated …" event). */
export const JobEstimateObject = Type.Object({
  trained_tokens: Type.Integer({ description: 'Tokens the whole run trains on: tokens_per_epoch × n_epochs.' }),
  tokens_per_epoch: Type.Integer({ description: "Tokens of one pass over the training file, after truncation: the trainer's own count." }),
  examples: Type.Integer(),
  total_steps: Type.Integer(),
  estimated_seconds: Type.Integer({ description: 'Expected training time, from the calibrated speed of this base model (see README).' }),
  token_count: Type.Union([Type.Literal('tokenizer'), Type.Literal('characters')], {
    description: "'tokenizer': counted with the base model's tokenizer and chat template; 'characters': characters / 4, when the tokenizer was not available (a Hub model not fetched yet).",
  }),
  example_tokens: Nullable(Type.Object({ p50: Type.Integer(), p95: Type.Integer(), max: Type.Integer() }, { description: 'Example lengths in tokens before truncation (a DPO pair: its longer side).' })),
  truncated_examples: Nullable(Type.Integer({ description: 'Training examples longer than context_length: the tokens past it are not trained on.' })),
  context_length: Nullable(Type.Integer({ description: 'The length examples are cut at (the model context, at most 2048).' })),
  speed: Nullable(Type.Object({
    tokens_per_second: Type.Number({ description: 'Steady-state training speed.' }),
    overhead_seconds: Type.Number({ description: 'Seconds a job spends besides training (start, model load, exports).' }),
    backend: Nullable(Type.String({ description: 'The trainer backend it was measured on; null: the configured SKILLET_ESTIMATE_TOKENS_PER_SECOND.' })),
    calibrated_jobs: Type.Integer({ description: 'Finished jobs on this base model it was measured on (a moving average); 0: the configured default.' }),
  }, { description: 'The speed estimated_seconds came from.' })),
})
export type JobEstimateView = Static<typeof JobEstimateObject>

/** The job object; listed fields are documented, the rest (method, metadata, …) pass through as built. */
export const FineTuningJob = Type.Object(
  {
    object: Type.Literal('fine_tuning.job'),
    id: Type.String(),
    model: Type.String(),
    created_at: Unixtime,
    finished_at: Nullable(Unixtime),
    fine_tuned_model: Nullable(Type.String()),
    organization_id: Type.String(),
    result_files: Type.Array(Type.String()),
    status: Type.String(),
    validation_file: Nullable(Type.String()),
    training_file: Type.String(),
    trained_tokens: Nullable(Type.Integer()),
    seed: Type.Integer(),
    estimated_finish: Nullable(Unixtime),
    estimate: Type.Optional(Nullable(JobEstimateObject)),
    evaluation: Type.Optional(Nullable(Type.Object({
      best_checkpoint: Nullable(Type.Object({
        step_number: Type.Integer(),
        fine_tuned_model_checkpoint: Type.String(),
        metric: Type.String(),
        value: Type.Number(),
      }, { description: 'The best checkpoint by best_checkpoint_metric; null without a validation file.' })),
      served_step: Type.Integer({ description: "The step whose weights fine_tuned_model is: the best checkpoint's, or the last step's (serve_checkpoint 'last', or no best)." }),
      stopped_early: Nullable(Type.Object({ step_number: Type.Integer(), reason: Type.String() }, { description: 'Set when early stopping ended the run.' })),
      forgetting: Nullable(Type.Object({
        texts: Type.Integer(),
        source: Type.String({ description: "'skillet-general-texts' (the shipped set) or the forgetting_file's id." }),
        base_loss: Type.Number(),
        fine_tuned_loss: Type.Number(),
        relative_change: Type.Number(),
        warning: Type.Boolean(),
      }, { description: 'Loss on a general held-out text set, base model vs fine-tuned model; warning when it rose by more than 10%.' })),
    }, { description: "Skillet extension: what the job's evaluation concluded; null until the job succeeds." }))),
  },
  { $id: 'FineTuningJob', additionalProperties: true },
)

export const JobIdParams = Type.Object({ fine_tuning_job_id: Type.String() })

export const ListJobsQuery = Type.Object(
  { after: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) },
  { additionalProperties: true },
)

export const PageQuery = (defaultLimit: number) => Type.Object({ after: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 100, default: defaultLimit }) })

export const ListJobsResponse = Type.Object({ object: Type.Literal('list'), data: Type.Array(Type.Ref('FineTuningJob')), has_more: Type.Boolean() })

const JobEvent = Type.Object({
  object: Type.Literal('fine_tuning.job.event'),
  id: Type.String(),
  created_at: Unixtime,
  level: Type.String(),
  message: Type.String(),
  type: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
})
export const ListEventsResponse = Type.Object({ object: Type.Literal('list'), data: Type.Array(JobEvent), has_more: Type.Boolean() })

const JobCheckpoint = Type.Object({
  object: Type.Literal('fine_tuning.job.checkpoint'),
  id: Type.String(),
  created_at: Unixtime,
  fine_tuned_model_checkpoint: Type.String(),
  fine_tuning_job_id: Type.String(),
  step_number: Type.Integer(),
  metrics: Type.Record(Type.String(), Type.Number()),
})
export const ListCheckpointsResponse = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(JobCheckpoint),
  first_id: Nullable(Type.String()),
  last_id: Nullable(Type.String()),
  has_more: Type.Boolean(),
})

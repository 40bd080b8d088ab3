// The job spec a trainer runs from: built by the scheduler (src/running/scheduler/trainer-job-spec.ts),
// handed to the trainer through its environment (trainer-env.ts), checked against this schema by
// src/trainer/service/trainer-config.ts. One schema; the type is derived from it.
import { Type, type Static } from 'typebox'
import { AnswerEvalChoicesSchema } from './answer-eval-settings.ts'
import { ADAPTERS, EVALUATION_LIMITS, GGUF_FILE_TYPES, LORA_LIMITS, LORA_MODULES, QLORA_BITS } from './training-settings.ts'
import { CHECKPOINT_METRIC_NAMES, SERVED_CHECKPOINTS } from './checkpoint-metrics.ts'

const Hyperparameters = {
  nEpochs: Type.Integer({ minimum: 1 }),
  batchSize: Type.Integer({ minimum: 1 }),
  learningRateMultiplier: Type.Number({ exclusiveMinimum: 0 }),
}
const FileRef = Type.Object({ id: Type.String({ minLength: 1 }), blobKey: Type.String({ minLength: 1 }) })

/** The job's choices beyond OpenAI's hyperparameters; each absent one is the trainer's default. */
export const TrainingChoicesSchema = Type.Object({
  /** LoRA (the default), QLoRA (LoRA on a quantised base) or full fine-tuning (supervised only). */
  adapter: Type.Optional(Type.Enum(ADAPTERS)),
  /** QLoRA: bits of the quantised base (absent: DEFAULT_QLORA_BITS). */
  qloraBits: Type.Optional(Type.Enum(QLORA_BITS)),
  lora: Type.Optional(Type.Object({
    rank: Type.Optional(Type.Integer({ minimum: 1, maximum: LORA_LIMITS.maxRank })),
    alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: LORA_LIMITS.maxAlpha })),
    dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
    targetModules: Type.Optional(Type.Array(Type.Enum(LORA_MODULES), { minItems: 1 })),
  })),
  /** GGUF files to export; absent: the trainer's SKILLET_TRAINER_GGUF_TYPE. */
  ggufTypes: Type.Optional(Type.Array(Type.Enum(GGUF_FILE_TYPES), { minItems: 1 })),
  /** Validation schedule, early stopping, the best checkpoint and which checkpoint the model is. */
  evaluation: Type.Optional(Type.Object({
    everySteps: Type.Optional(Type.Integer({ minimum: 1, maximum: EVALUATION_LIMITS.maxEvalEvery })),
    earlyStopping: Type.Optional(Type.Object({
      patience: Type.Integer({ minimum: 1, maximum: EVALUATION_LIMITS.maxPatience }),
      minDelta: Type.Number({ minimum: 0 }),
    })),
    bestMetric: Type.Optional(Type.Enum(CHECKPOINT_METRIC_NAMES)),
    serve: Type.Optional(Type.Enum(SERVED_CHECKPOINTS)),
  })),
  /** The answer evaluation at each checkpoint (answer-eval-settings.ts); absent: its defaults. */
  answerEval: Type.Optional(AnswerEvalChoicesSchema),
})
export type TrainingChoices = Static<typeof TrainingChoicesSchema>

/** Everything a trainer needs to run one job; serialised as JSON into the trainer's environment. */
export const TrainerJobSpecSchema = Type.Object({
  jobId: Type.String({ minLength: 1 }),
  projectId: Type.String({ minLength: 1 }),
  /**
   * Base model id and where its Hugging Face directory lives. `publicId` is the name the outside
   * world knows it by (the Hub repo id of an hf: model), written into the adapter's config.
   */
  model: Type.Object({
    id: Type.String({ minLength: 1 }),
    publicId: Type.Optional(Type.String({ minLength: 1 })),
    source: Type.Union([
      Type.Object({ kind: Type.Literal('dir'), path: Type.String({ minLength: 1 }) }),
      Type.Object({ kind: Type.Literal('blob'), prefix: Type.String({ minLength: 1 }) }),
    ]),
  }),
  /**
   * Set when the job continues from a fine-tuned or checkpoint model (`model: 'ft:…'`): that model's
   * PEFT adapter (blob keys of its adapter_config.json and adapter_model.safetensors), which the
   * LoRA adapters start from instead of zero. `model` above is then its base model.
   */
  initAdapter: Type.Optional(Type.Object({
    model: Type.String({ minLength: 1 }),
    configKey: Type.String({ minLength: 1 }),
    weightsKey: Type.String({ minLength: 1 }),
  })),
  trainingFile: FileRef,
  validationFile: Type.Union([FileRef, Type.Null()]),
  /** The forgetting check's general text (the job's forgetting_file); absent: the texts the trainer ships. */
  forgettingFile: Type.Optional(FileRef),
  /** Already resolved: never 'auto'. */
  method: Type.Union([
    Type.Object({ type: Type.Literal('supervised'), ...Hyperparameters }),
    Type.Object({ type: Type.Literal('dpo'), ...Hyperparameters, beta: Type.Number({ exclusiveMinimum: 0, maximum: 2 }) }),
  ]),
  /** Skillet's extensions; absent in specs from before they existed. */
  training: Type.Optional(TrainingChoicesSchema),
  seed: Type.Integer(),
  /** Blob-store prefix where checkpoints and artifacts go (e.g. "jobs/ftjob-abc/"). */
  outputPrefix: Type.String({ pattern: '^[A-Za-z0-9._/-]+/$' }),
  /** Base URL of the API's internal trainer endpoints, e.g. "http://skillet-api:8080/internal/v1". */
  callbackUrl: Type.String({ pattern: '^https?://' }),
  /** Attempt number, 1-based; a retried attempt resumes from the latest checkpoint. */
  attempt: Type.Integer({ minimum: 1 }),
})

export type TrainerJobSpec = Static<typeof TrainerJobSpecSchema>

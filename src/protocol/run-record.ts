// run.json: what a succeeded job was trained from and with, stored beside its artifacts
// (docs/model-artifacts.md) so the run can be told apart from another and repeated: the software,
// the machine's backend, the exact base model weights, the exact data, every setting as resolved
// ('auto' became numbers), the seed, and the tokenizer and chat template. Written by the trainer
// (src/trainer/service/run-record.ts); one schema, the type derived from it.
import { Type, type Static } from 'typebox'

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' })
const DatasetFile = Type.Object({ id: Type.String(), sha256: Sha256, bytes: Type.Integer({ minimum: 0 }) })

export const RunRecordSchema = Type.Object({
  /** The layout's version: a reader checks it. */
  schema_version: Type.Literal(1),
  job_id: Type.String(),
  created_at: Type.Integer({ description: 'Unix seconds, when the record was written.' }),
  skillet: Type.Object({
    version: Type.String(),
    /** The source checkout's commit; null when the trainer does not run from a git checkout (e.g. the container image). */
    git_commit: Type.Union([Type.String({ pattern: '^[0-9a-f]{40}$' }), Type.Null()]),
  }),
  trainer: Type.Object({
    /** tensorflow, webgpu, wasm or cpu. */
    backend: Type.String(),
    /** What it computed on, in words (the started event's line). */
    device: Type.String(),
    gpu: Type.Boolean(),
    node: Type.String(),
    platform: Type.String(),
  }),
  base_model: Type.Object({
    id: Type.String(),
    /** The Hub repo id of an hf: model. */
    public_id: Type.Union([Type.String(), Type.Null()]),
    architecture: Type.String(),
    parameters: Type.Integer({ minimum: 0 }),
    /** SHA-256 of each weights file, by file name. */
    weights_sha256: Type.Record(Type.String(), Sha256),
  }),
  /** The fine-tuned model the job continued from (its adapter's SHA-256), or null. */
  initial_adapter: Type.Union([Type.Object({ model: Type.String(), sha256: Sha256 }), Type.Null()]),
  tokenizer: Type.Object({
    /** tokenizer.json and tokenizer_config.json (src/trainer/tokenizer/tokenizer-fingerprint.ts). */
    tokenizer_sha256: Sha256,
    chat_template_sha256: Type.Union([Sha256, Type.Null()]),
  }),
  data: Type.Object({
    training_file: DatasetFile,
    validation_file: Type.Union([DatasetFile, Type.Null()]),
    examples: Type.Integer({ minimum: 0 }),
    validation_examples: Type.Integer({ minimum: 0 }),
    tokens_per_epoch: Type.Integer({ minimum: 0 }),
    /** Sequences are cut at this many tokens; `truncated_examples` were. */
    max_length: Type.Integer({ minimum: 1 }),
    truncated_examples: Type.Integer({ minimum: 0 }),
  }),
  /** 'lora', 'full' or 'dpo'. */
  method: Type.String(),
  /** The job's hyperparameters as resolved before training (numbers where the request said 'auto'). */
  hyperparameters: Type.Object({
    n_epochs: Type.Integer({ minimum: 1 }),
    batch_size: Type.Integer({ minimum: 1 }),
    learning_rate_multiplier: Type.Number(),
    beta: Type.Union([Type.Number(), Type.Null()]),
    /** The rate the multiplier came to on this model. */
    learning_rate: Type.Number(),
    total_steps: Type.Integer({ minimum: 0 }),
  }),
  /** Every option the trainer ran with, defaults included (schedule, AdamW, clipping, LoRA shape and targets). */
  trainer_options: Type.Record(Type.String(), Type.Unknown()),
  seeds: Type.Object({
    /** The job's seed: LoRA initialisation and dropout masks come from it. */
    seed: Type.Integer(),
    /** How each epoch's order is shuffled (validation batches are not). */
    shuffle: Type.String(),
  }),
  /** GGUF types exported. */
  gguf_types: Type.Array(Type.String()),
})
export type RunRecord = Static<typeof RunRecordSchema>

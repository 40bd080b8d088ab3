// One attempt of a fine-tuning job, as the service runs it (docs/trainer-protocol.md): heartbeat,
// pick a backend, load the base model and the job's files from the blob store, encode, train with
// progress reported to the API and checkpoints written to the blob store (resuming from the latest
// one), then export the adapter, the merged model and a GGUF, upload them as the model's
// artifacts and report success. Stops early when the job is paused (checkpoint first), cancelled,
// or the process is asked to terminate. The caller (src/cli/trainer.ts) maps the outcome to an
// exit code.
import { createReadStream } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { createBlobStore } from '../../storage/index.ts'
import { BlobNotFoundError, type BlobStore } from '../../storage/blob-store.ts'
import { describeBackend, gpuHint, selectBackend, type SelectedBackend } from '../backend/select-backend.ts'
import { type LoadedModel, loadModelDir, loadModelFromBlobStore, weightFiles } from '../io/load-model.ts'
import { TrainerClient, TrainerProtocolError } from './trainer-client.ts'
import { defaultMaxLength, encodeSupervisedRows, encodeTrainingSet, InvalidTrainingDataError, type JsonlRow, parseJsonl, type TrainingSet } from '../run/training-set.ts'
import { trainOptions } from '../run/train-options.ts'
import { writeOutputs } from '../run/write-outputs.ts'
import { readPeftAdapter } from '../export/peft-adapter.ts'
import type { LoraAdapter } from '../model/types.ts'
import { TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import { learningRateFor, type TrainingMethod } from '../../protocol/auto-hyperparameters.ts'
import type { TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'
import { DEFAULT_QLORA_BITS, type GgufFileType } from '../../protocol/training-settings.ts'
import { quantisedBytes } from '../model/quantised-matrix.ts'
import { defaultLoraTargets } from '../model/lora.ts'
import type { ModelConfig } from '../model/types.ts'
import { TrainingMemoryError } from '../backend/memory-plan.ts'
import { type EvaluateCheckpoint, NonFiniteTrainingError, Trainer, type SftBatch, type TrainedWeights, type TrainOptions, type TrainResult } from '../train/trainer.ts'
import { FORGETTING_WARN_RISE, forgettingCheck, type ForgettingResult } from '../train/forgetting-check.ts'
import { encodeGeneralTexts, GENERAL_TEXTS, GENERAL_TEXTS_SOURCE } from '../run/general-texts.ts'
import { ModelWeights } from '../model/weights.ts'
import type { ReportedEvaluation } from '../../protocol/trainer-reports.ts'
import type { RunRecord } from '../../protocol/run-record.ts'
import { tokenizerFingerprint } from '../tokenizer/tokenizer-fingerprint.ts'
import { sha256Of, sha256OfFile, skilletBuild, weightsSha256 } from './run-record.ts'
import { ANSWER_EVAL_DEFAULTS, answerMetricName, DEFAULT_ANSWER_GRADERS } from '../../protocol/answer-eval-settings.ts'
import { answerExamples, referencesAreJson } from '../eval/answer-examples.ts'
import { answerStopIds, evaluateAnswers } from '../eval/answer-eval.ts'
import { BlobCheckpointStore, checkpointFolder } from './blob-checkpoint-store.ts'
import { startHeartbeat } from './heartbeat.ts'
import { ProtocolReporter } from './protocol-reporter.ts'
import type { StopReason, StopSignal } from './stop-signal.ts'
import type { TrainerConfig } from './trainer-config.ts'

export type JobOutcome =
  | { kind: 'succeeded' }
  | { kind: 'paused'; step: number }
  /** Nothing more to do: the job was cancelled, finished, or belongs to a newer attempt. */
  | { kind: 'stopped'; why: string }
  /** SIGTERM without a request from the API: progress checkpointed, the attempt ends unfinished. */
  | { kind: 'terminated'; step: number }
  /** Reported to the API as failed; `badInput` when no retry could ever succeed. */
  | { kind: 'failed'; badInput: boolean; message: string }

/** A failure with the error code the job will show; `badInput` means retrying cannot help. */
class JobFailure extends Error {
  readonly code: string
  readonly badInput: boolean
  constructor(code: string, message: string, badInput: boolean) {
    super(message)
    this.code = code
    this.badInput = badInput
  }
}

/** supervised jobs train LoRA adapters (on a quantised base for QLoRA) or every weight; DPO trains LoRA adapters. */
const methodOf = (spec: TrainerJobSpec): TrainingMethod => (spec.method.type === 'dpo' ? 'dpo' : spec.training?.adapter === 'full' ? 'full' : 'lora')

/** QLoRA: the bits the frozen base is held in; null for a full-precision base. */
const baseBitsOf = (spec: TrainerJobSpec): 4 | 8 | null => (spec.training?.adapter === 'qlora' ? spec.training.qloraBits ?? DEFAULT_QLORA_BITS : null)

/** The job's LoRA targets must be projections this architecture has (the API knows no model). */
function checkLoraTargets(spec: TrainerJobSpec, config: ModelConfig): void {
  const targets = spec.training?.lora?.targetModules
  if (!targets) return
  const known = defaultLoraTargets(config)
  const unknown = targets.filter((m) => !known.includes(m))
  if (unknown.length) {
    throw new JobFailure('invalid_hyperparameters', `lora_target_modules ${unknown.map((m) => `'${m}'`).join(', ')} ${unknown.length === 1 ? 'is not a projection' : 'are not projections'} of ${config.hfArchitecture}; its projections are ${known.join(', ')}`, true)
  }
}

/** The GGUF types to export: the job's, else the trainer's SKILLET_TRAINER_GGUF_TYPE. */
const ggufTypesOf = (config: TrainerConfig): GgufFileType[] => config.spec.training?.ggufTypes ?? (config.gguf ? [config.gguf] : [])

/** A job's file: its text, and what run.json records of it. */
async function readDataset(blobs: BlobStore, file: { id: string; blobKey: string }): Promise<{ text: string; record: { id: string; sha256: string; bytes: number } }> {
  const bytes = Buffer.concat(await (await blobs.get(file.blobKey)).toArray())
  return { text: bytes.toString('utf8'), record: { id: file.id, sha256: sha256Of(bytes), bytes: bytes.length } }
}

/** An error's message as a user may read it in the job's error: never a storage key or path. */
export function userMessageOf(err: unknown): string {
  if (err instanceof BlobNotFoundError) return 'a stored file it needs is missing (deleted, or the blob store was changed)'
  return (err as Error).message
}

async function loadBaseModel(config: TrainerConfig, blobs: BlobStore): Promise<LoadedModel> {
  const { source } = config.spec.model
  try {
    if (source.kind === 'dir') return await loadModelDir(source.path)
    const cache = join(config.workDir, 'models', source.prefix.replace(/[^A-Za-z0-9._-]+/g, '_'))
    return await loadModelFromBlobStore(blobs, source.prefix, cache)
  } catch (err) {
    throw new JobFailure('invalid_base_model', `The base model ${config.spec.model.id} could not be loaded: ${userMessageOf(err)}`, true)
  }
}

/** The adapter of the fine-tuned model the job continues from (spec.initAdapter) and its weights' SHA-256, or null. */
async function loadInitialAdapter(config: TrainerConfig, blobs: BlobStore): Promise<{ adapter: LoraAdapter; sha256: string } | null> {
  const init = config.spec.initAdapter
  if (!init) return null
  const dir = join(config.workDir, 'jobs', config.spec.jobId, 'initial-adapter')
  try {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'adapter_config.json'), await blobs.get(init.configKey))
    await writeFile(join(dir, 'adapter_model.safetensors'), await blobs.get(init.weightsKey))
    return { adapter: await readPeftAdapter(dir), sha256: await sha256OfFile(join(dir, 'adapter_model.safetensors')) }
  } catch (err) {
    throw new JobFailure('invalid_model', `The adapter of ${init.model} could not be loaded: ${userMessageOf(err)}`, true)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function loadTrainingSet(config: TrainerConfig, blobs: BlobStore, tokenizer: TextTokenizer, maxLength: number): Promise<{ set: TrainingSet; validRows: JsonlRow[]; files: RunRecord['data']['training_file'][] }> {
  const { spec } = config
  try {
    const training = await readDataset(blobs, spec.trainingFile)
    const validation = spec.validationFile ? await readDataset(blobs, spec.validationFile) : null
    const train = parseJsonl(training.text, 'training', spec.trainingFile.id)
    const valid = validation ? parseJsonl(validation.text, 'validation', spec.validationFile!.id) : []
    return { set: encodeTrainingSet(tokenizer, methodOf(spec), train, valid, maxLength), validRows: valid, files: [training.record, ...(validation ? [validation.record] : [])] }
  } catch (err) {
    if (err instanceof InvalidTrainingDataError) throw new JobFailure(`invalid_${err.role}_file`, err.message, true)
    if (err instanceof BlobNotFoundError) {
      const file = err.key === spec.validationFile?.blobKey ? spec.validationFile : spec.trainingFile
      const role = file === spec.trainingFile ? 'training' : 'validation'
      throw new JobFailure(`invalid_${role}_file`, `The ${role} file ${file.id} is no longer available.`, true)
    }
    throw err
  }
}

function truncationWarnings(set: TrainingSet, reporter: ProtocolReporter): void {
  for (const role of ['training', 'validation'] as const) {
    const n = set.truncated[role]
    if (n === 0) continue
    reporter.event(`truncated-${role}`, `${n} ${role} example${n === 1 ? ' is' : 's are'} longer than the model's context of ${set.maxLength} tokens and ` +
      `${n === 1 ? 'was' : 'were'} truncated: the tokens past the limit are not trained on`, { level: 'warn', data: { examples: n, max_tokens: set.maxLength } })
  }
}

/** Uploads every exported file as `{prefix}{name}`. */
async function uploadArtifacts(blobs: BlobStore, prefix: string, files: { name: string; path: string }[]): Promise<{ name: string; key: string }[]> {
  const artifacts: { name: string; key: string }[] = []
  for (const file of files) {
    const key = `${prefix}${file.name}`
    await blobs.put(key, createReadStream(file.path))
    artifacts.push({ name: file.name, key })
  }
  return artifacts
}

/**
 * Exports the model as trained so far into scratch space, then into the blob store under `prefix`
 * (docs/model-artifacts.md): the adapter with its tokenizer files, the GGUF and its Modelfile,
 * and the merged model when `merged`.
 */
async function exportModel(config: TrainerConfig, blobs: BlobStore, model: LoadedModel, trained: TrainedWeights, prefix: string, opts: { merged: boolean; name: string; scratch: string; gguf: GgufFileType[] }) {
  const { spec } = config
  const outDir = join(config.workDir, 'jobs', spec.jobId, opts.scratch)
  try {
    const written = await writeOutputs(outDir, model, trained, { adapter: true, merged: opts.merged, gguf: opts.gguf, name: opts.name, baseModelName: spec.model.publicId ?? spec.model.id })
    const artifacts = await uploadArtifacts(blobs, prefix, written.files)
    const what = [written.adapterDir && 'the LoRA adapter (PEFT)', written.modelDir && 'the merged model (safetensors)', opts.gguf.length > 0 && `${opts.gguf.length === 1 ? 'a GGUF' : 'GGUFs'} (${opts.gguf.join(', ')})`].filter(Boolean)
    return { artifacts, what: what.join(', ') }
  } finally {
    await rm(outDir, { recursive: true, force: true })
  }
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`

/**
 * The answer evaluation each checkpoint runs (src/trainer/eval/), or null when there is nothing to
 * answer (no validation file, no example with a text reference) or the job chose no graders. Its
 * scores go into the checkpoint's metrics and into one event per checkpoint (and one for step 0,
 * the model before training).
 */
function checkpointAnswerEval(spec: TrainerJobSpec, model: LoadedModel, tokenizer: TextTokenizer, validRows: JsonlRow[], batchSize: number, maxLength: number, reporter: ProtocolReporter): EvaluateCheckpoint | null {
  const choices = spec.training?.answerEval ?? {}
  const examples = answerExamples(tokenizer, validRows, choices.maxExamples ?? ANSWER_EVAL_DEFAULTS.maxExamples)
  const graders = choices.graders ?? [...DEFAULT_ANSWER_GRADERS, ...(referencesAreJson(examples) ? ['valid_json' as const] : [])]
  if (examples.length === 0 || graders.length === 0) return null
  const options = {
    graders,
    ...(choices.jsonSchema ? { jsonSchema: choices.jsonSchema } : {}),
    maxNewTokens: choices.maxNewTokens ?? ANSWER_EVAL_DEFAULTS.maxNewTokens,
    // A training batch of the longest sequences fits with gradients: as many tokens fit without.
    batchTokens: batchSize * maxLength,
    stopIds: answerStopIds(tokenizer, model.tokenizerJson),
  }
  return async (step, trained) => {
    const r = await evaluateAnswers(trained.weights, trained.lora, tokenizer, examples, options)
    const scores = graders.map((g) => `${g.replace(/_/g, ' ')} ${percent(r.metrics[answerMetricName(g)])}`).join(', ')
    const when = step === 0 ? 'Before training' : `Step ${step}`
    const skipped = r.skipped ? ` (${r.skipped} left out: the prompt fills the context)` : ''
    const clip = (text: string) => text.slice(0, 200)
    reporter.event(`answer-eval:${step}`, `${when}: answers to ${r.examples} validation prompts scored ${scores}${skipped}`, {
      data: { step, examples: r.examples, skipped: r.skipped, max_new_tokens: options.maxNewTokens, ...r.metrics,
        ...(r.sample ? { sample: { answer: clip(r.sample.answer), reference: clip(r.sample.reference) } } : {}) },
    })
    return r.metrics
  }
}

/**
 * What this attempt measured, for the estimates of later jobs (src/jobs/training-speed.ts): the
 * steady-state speed, and the rest of the process's life (start, model load, warm-up, exports) as
 * overhead. Only an attempt that trained the whole run (not a resumed one) says how long a run takes.
 */
function measuredSpeed(reporter: ProtocolReporter, backend: SelectedBackend, trainedTokens: number, wholeRun: boolean, jobArrived: number) {
  const tokensPerSecond = reporter.tokensPerSecond
  if (!wholeRun || tokensPerSecond === null) return {}
  return { speed: { backend: backend.name, tokens_per_second: tokensPerSecond, overhead_seconds: Math.max(0, process.uptime() - jobArrived - trainedTokens / tokensPerSecond) } }
}

/** The artifact name of a succeeded job's reproducibility record. */
export const RUN_RECORD_NAME = 'run.json'

/** run.json (src/protocol/run-record.ts): what this run was trained from and with. */
async function runRecord(r: {
  spec: TrainerJobSpec; backend: SelectedBackend; model: LoadedModel; parameters: number; datasetFiles: RunRecord['data']['training_file'][]
  set: TrainingSet; method: TrainingMethod; learningRate: number; totalSteps: number; options: TrainOptions
  initial: { sha256: string } | null; ggufTypes: GgufFileType[]
}): Promise<RunRecord> {
  const { spec } = r
  const fingerprint = tokenizerFingerprint(r.model)
  return {
    schema_version: 1,
    job_id: spec.jobId,
    created_at: Math.floor(Date.now() / 1000),
    skillet: await skilletBuild(),
    trainer: { backend: r.backend.name, device: describeBackend(r.backend), gpu: r.backend.gpu, node: process.version, platform: `${process.platform}-${process.arch}` },
    base_model: { id: spec.model.id, public_id: spec.model.publicId ?? null, architecture: r.model.config.hfArchitecture, parameters: r.parameters, weights_sha256: await weightsSha256(await weightFiles(r.model.dir)) },
    initial_adapter: r.initial && spec.initAdapter ? { model: spec.initAdapter.model, sha256: r.initial.sha256 } : null,
    tokenizer: { tokenizer_sha256: fingerprint.tokenizerSha256, chat_template_sha256: fingerprint.chatTemplateSha256 },
    data: {
      training_file: r.datasetFiles[0],
      validation_file: r.datasetFiles[1] ?? null,
      examples: r.set.examples,
      validation_examples: r.set.validationExamples,
      tokens_per_epoch: r.set.tokensPerEpoch,
      max_length: r.set.maxLength,
      truncated_examples: r.set.truncated.training,
    },
    method: r.method,
    hyperparameters: {
      n_epochs: spec.method.nEpochs,
      batch_size: spec.method.batchSize,
      learning_rate_multiplier: spec.method.learningRateMultiplier,
      beta: spec.method.type === 'dpo' ? spec.method.beta : null,
      learning_rate: r.learningRate,
      total_steps: r.totalSteps,
    },
    trainer_options: { ...r.options },
    seeds: { seed: spec.seed, shuffle: 'epoch e (from 0) is shuffled with seed * 1000 + e' },
    gguf_types: r.ggufTypes,
  }
}

/**
 * The forgetting check on the trained model (the served checkpoint's weights): the base is the same
 * weights with the adapters off, or for full fine-tuning the base model's weights, loaded again.
 */
/** The forgetting check's text: the job's forgetting_file, else the texts Skillet ships. */
async function loadForgettingSet(config: TrainerConfig, blobs: BlobStore, tokenizer: TextTokenizer, maxLength: number): Promise<{ batches: SftBatch[]; texts: number; source: string }> {
  const file = config.spec.forgettingFile
  if (!file) return { batches: encodeGeneralTexts(tokenizer, maxLength), texts: GENERAL_TEXTS.length, source: GENERAL_TEXTS_SOURCE }
  try {
    const rows = parseJsonl((await readDataset(blobs, file)).text, 'forgetting', file.id)
    const batches = encodeSupervisedRows(tokenizer, rows, maxLength)
    if (rows.length === 0 || !batches.some((b) => b.lossMask.includes(1))) throw new InvalidTrainingDataError('forgetting', `the forgetting file ${file.id} has no assistant message or completion to score`)
    return { batches, texts: rows.length, source: file.id }
  } catch (err) {
    if (err instanceof InvalidTrainingDataError) throw new JobFailure('invalid_forgetting_file', err.message, true)
    if (err instanceof BlobNotFoundError) throw new JobFailure('invalid_forgetting_file', `The forgetting file ${file.id} is no longer available.`, true)
    throw err
  }
}

async function checkForgetting(model: LoadedModel, trained: TrainedWeights, set: { batches: SftBatch[]; texts: number; source: string }, reporter: ProtocolReporter): Promise<ForgettingResult> {
  const base = trained.lora ? null : ModelWeights.fromHost(model.config, model.weights, { trainable: false })
  try {
    const r = await forgettingCheck(trained, base, set.batches, { texts: set.texts, source: set.source })
    const change = `${r.relative_change >= 0 ? '+' : ''}${(r.relative_change * 100).toFixed(1)}%`
    const what = r.source === GENERAL_TEXTS_SOURCE ? `${r.texts} general texts` : `${r.texts} examples of ${r.source}`
    reporter.event('forgetting', `Forgetting check on ${what}: loss ${r.base_loss.toFixed(4)} (base model) → ${r.fine_tuned_loss.toFixed(4)} (fine-tuned), ${change}` +
      (r.warning ? `: more than ${FORGETTING_WARN_RISE * 100}% worse on text unlike the training data; fewer epochs, a lower learning rate or early stopping may keep more of the base model` : ''),
    { level: r.warning ? 'warn' : 'info', data: r })
    return r
  } finally {
    base?.dispose()
  }
}

/** What the job's result says about its evaluation. */
const evaluationOf = (result: TrainResult, forgetting: ForgettingResult): ReportedEvaluation => ({
  best_checkpoint: result.best,
  served_step: result.servedStep,
  stopped_early: result.earlyStopped,
  forgetting,
})

async function train(config: TrainerConfig, client: TrainerClient, stop: StopSignal, log: (line: string) => void, jobArrived: number): Promise<JobOutcome> {
  const { spec } = config
  const state = await client.heartbeat() // first: startup time counts against the heartbeat timeout
  stop.fromJobState(state.stop)
  if (stop.reason === 'cancel') return { kind: 'stopped', why: `the job is ${state.status}` }
  if (stop.reason === 'pause') {
    await client.status({ status: 'paused', step: state.latest_checkpoint?.step })
    return { kind: 'paused', step: state.latest_checkpoint?.step ?? 0 }
  }

  const backendLines: string[] = []
  const backend = await selectBackend(config.backend.requested, (line) => backendLines.push(line), { requireGpu: config.backend.requireGpu, threads: config.backend.threads, matmul: config.backend.matmul })
  backendLines.forEach(log)
  const blobs = createBlobStore(config.blobStore)
  const model = await loadBaseModel(config, blobs)
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const { set, validRows, files: datasetFiles } = await loadTrainingSet(config, blobs, tokenizer, defaultMaxLength(model.config.maxPositions))
  // Read before training, so that a bad file fails the job before its compute is spent.
  const forgettingSet = await loadForgettingSet(config, blobs, tokenizer, set.maxLength)
  const method = methodOf(spec)
  checkLoraTargets(spec, model.config)
  // Resolved once, by the API when it validated the job's files: the spec carries numbers, never 'auto'.
  const hp = spec.method
  const learningRate = learningRateFor(method, hp.learningRateMultiplier, model.config)
  const stepsPerEpoch = Math.ceil(set.examples / hp.batchSize)
  const reporter = new ProtocolReporter(client, { stepsPerEpoch, tokensPerEpoch: set.tokensPerEpoch, attempt: spec.attempt }, (err) =>
    stop.request(err instanceof TrainerProtocolError && err.shouldStop ? 'cancel' : 'report-failed'))

  const parameters = [...model.weights.values()].reduce((n, w) => n + w.data.length, 0)
  reporter.event(`started:${spec.attempt}`, `Trainer attempt ${spec.attempt} started: ${describeBackend(backend)}`, {
    data: { attempt: spec.attempt, backend: backend.name, gpu: backend.gpu },
  })
  const hint = gpuHint(backend)
  if (hint) reporter.event(`gpu-hint:${spec.attempt}`, hint, { data: { passed_over: backend.passedOver } })
  reporter.event('model-loaded', `Loaded base model ${spec.model.id}: ${model.config.architecture}, ${model.config.numLayers} layers, ` +
    `${(parameters / 1e6).toFixed(2)}M parameters`, { data: { architecture: model.config.architecture, parameters } })
  truncationWarnings(set, reporter)

  const initial = await loadInitialAdapter(config, blobs)
  const initialAdapter = initial?.adapter ?? null
  if (initialAdapter) {
    reporter.event('initial-adapter', `Continuing from ${spec.initAdapter!.model}: its LoRA adapter (rank ${initialAdapter.rank}) on ${spec.model.id}`,
      { data: { model: spec.initAdapter!.model, rank: initialAdapter.rank } })
  }
  const checkpointsPrefix = `${spec.outputPrefix}checkpoints/`
  const answerEval = checkpointAnswerEval(spec, model, tokenizer, validRows, hp.batchSize, set.maxLength, reporter)
  const options = trainOptions(model.config, {
    method,
    epochs: hp.nEpochs,
    learningRate,
    seed: spec.seed,
    checkpointEverySteps: config.checkpointEverySteps,
    gradientCheckpointing: config.gradientCheckpointing,
    ...(spec.training?.evaluation ? { evaluation: spec.training.evaluation } : {}),
    ...(spec.method.type === 'dpo' ? { dpoBeta: spec.method.beta } : {}),
    // Continuing from an adapter: its shape (rank, alpha, modules) and dropout; else the job's LoRA settings.
    lora: {
      ...(initialAdapter ? { rank: initialAdapter.rank, alpha: initialAdapter.alpha, dropout: initialAdapter.dropout, targetModules: initialAdapter.targetModules } : spec.training?.lora),
      baseBits: baseBitsOf(spec),
    },
  })
  const trainer = new Trainer({
    config: model.config,
    weights: model.weights,
    data: set.data(hp.batchSize, spec.seed),
    options,
    ...(initialAdapter ? { initialAdapter } : {}),
    reporter,
    checkpoints: new BlobCheckpointStore(blobs, checkpointsPrefix, state.latest_checkpoint),
    // Each checkpoint is a model too: its adapter, GGUF and Modelfile beside its training state.
    ...(answerEval ? { evaluateCheckpoint: answerEval } : {}),
    exportCheckpoint: async (step, trained) => (await exportModel(config, blobs, model, trained, `${checkpointFolder(checkpointsPrefix, step)}artifacts/`,
      { merged: false, name: `${spec.model.id} fine-tuned by ${spec.jobId}, step ${step}`, scratch: `step-${step}`, gguf: ggufTypesOf(config).slice(0, 1) })).artifacts,
    // Yield to the event loop after every step: wasm steps can resolve entirely as microtasks,
    // which would starve the heartbeat timer and the reports' network I/O.
    stopRequested: async () => {
      await new Promise((resolve) => setImmediate(resolve))
      return stop.trainerRequest()
    },
  })
  // QLoRA: the trainer holds the base quantised, and the exports merge from that; the f32 host copy
  // would keep the memory QLoRA saves, so it goes.
  const quantised = [...trainer.weights.quantised.values()]
  if (quantised.length > 0) {
    model.weights.clear()
    const bits = quantised[0].bits
    const bytes = quantised.reduce((n, m) => n + quantisedBytes(m), 0)
    const f32Bytes = quantised.reduce((n, m) => n + 4 * m.shape[0] * m.shape[1], 0)
    reporter.event('qlora-base', `QLoRA: the base's ${quantised.length} block projections are held ${bits === 8 ? 'in int8' : 'in 4 bits'}: ` +
      `${(bytes / 1e6).toFixed(2)} MB instead of ${(f32Bytes / 1e6).toFixed(2)} MB`, { data: { bits, projections: quantised.length, bytes, f32_bytes: f32Bytes } })
  }
  try {
    reporter.event('plan', `Training on ${set.examples} examples (${set.tokensPerEpoch.toLocaleString('en-US')} tokens per epoch) for ${hp.nEpochs} ` +
      `epoch${hp.nEpochs === 1 ? '' : 's'}: ${trainer.totalSteps} steps of batch size ${hp.batchSize}, learning rate ${learningRate}`, {
      data: { examples: set.examples, tokens_per_epoch: set.tokensPerEpoch, n_epochs: hp.nEpochs, batch_size: hp.batchSize,
        learning_rate: learningRate, total_steps: trainer.totalSteps, trained_tokens: set.tokensPerEpoch * hp.nEpochs },
    })
    // The answer evaluation's baseline: the model before its first step (not again on a resumed attempt).
    if (answerEval && !state.latest_checkpoint) await answerEval(0, { weights: trainer.weights, lora: trainer.lora })
    const result = await trainer.run()
    await reporter.flush()
    if (result.interrupted) {
      const why = stop.reason as StopReason | null // set while training: TypeScript's narrowing from above no longer holds
      if (why === 'pause') {
        await client.status({ status: 'paused', step: result.steps })
        return { kind: 'paused', step: result.steps }
      }
      if (why === 'terminate') return { kind: 'terminated', step: result.steps }
      return { kind: 'stopped', why: `stop requested (${why})` }
    }

    const trainedTokens = Math.round((set.tokensPerEpoch * result.steps) / stepsPerEpoch)
    if (result.earlyStopped) {
      reporter.event('early-stopped', `Stopped early at step ${result.earlyStopped.step} of ${trainer.totalSteps}: ${result.earlyStopped.reason}`,
        { data: { step: result.earlyStopped.step, total_steps: trainer.totalSteps, reason: result.earlyStopped.reason } })
    }
    if (result.best) {
      const served = result.servedStep === result.best.step
      reporter.event('best-checkpoint', `Best checkpoint: step ${result.best.step} (${result.best.metric} ${result.best.value.toFixed(4)}); ` +
        `the fine-tuned model is ${served ? 'its weights' : `the last step's (${result.servedStep})`}`,
        { data: { step: result.best.step, metric: result.best.metric, value: result.best.value, served_step: result.servedStep } })
    }
    const forgetting = await checkForgetting(model, result, forgettingSet, reporter)
    const { artifacts, what } = await exportModel(config, blobs, model, result, `${spec.outputPrefix}artifacts/`, { merged: true, name: `${spec.model.id} fine-tuned by ${spec.jobId}`, scratch: 'final', gguf: ggufTypesOf(config) })
    reporter.event('exported', `Exported ${what}: ${artifacts.length} files`, { data: { artifacts: artifacts.map((a) => a.name) } })
    const record = await runRecord({ spec, backend, model, parameters, datasetFiles, set, method, learningRate, totalSteps: trainer.totalSteps, options, initial, ggufTypes: ggufTypesOf(config) })
    const recordKey = `${spec.outputPrefix}artifacts/${RUN_RECORD_NAME}`
    await blobs.put(recordKey, Buffer.from(`${JSON.stringify(record, null, 2)}\n`), { contentType: 'application/json' })
    artifacts.push({ name: RUN_RECORD_NAME, key: recordKey })
    reporter.event('run-record', `Recorded how the model was made in ${RUN_RECORD_NAME}: base model, data and tokenizer hashes, resolved settings, seed, backend`,
      { data: { name: RUN_RECORD_NAME, backend: record.trainer.backend, git_commit: record.skillet.git_commit } })
    await reporter.flush()
    await client.status({ status: 'succeeded', trained_tokens: trainedTokens, artifacts, evaluation: evaluationOf(result, forgetting), ...measuredSpeed(reporter, backend, trainedTokens, state.latest_checkpoint === null, jobArrived) })
    return { kind: 'succeeded' }
  } finally {
    trainer.dispose()
    if (tf.memory().numTensors > 0) log(`warning: ${tf.memory().numTensors} tensors still allocated after training`)
  }
}

/**
 * Runs the attempt; never throws for a job-level failure (it is reported, and returned as
 * 'failed'), only when even the report cannot be made.
 */
/** `jobArrived`: the process's uptime when the job reached it (a standby trainer's wait is not the job's overhead); 0 for a process started for the job. */
export async function runJob(config: TrainerConfig, stop: StopSignal, log: (line: string) => void, jobArrived = 0): Promise<JobOutcome> {
  const client = new TrainerClient({ callbackUrl: config.callbackUrl, jobId: config.spec.jobId, token: config.token })
  const heartbeat = startHeartbeat(client, stop, config.heartbeatSeconds, log)
  try {
    return await train(config, client, stop, log, jobArrived)
  } catch (err) {
    if (err instanceof TrainerProtocolError && err.shouldStop) return { kind: 'stopped', why: err.message }
    const failure =
      err instanceof JobFailure ? err
      // Same data, same seed, same rate: a retry would diverge again.
      : err instanceof NonFiniteTrainingError ? new JobFailure('training_diverged', `The job failed: ${err.message}.`, true)
      // Planned before the first step (memory-plan.ts): the same shapes would not fit on a retry either.
      : err instanceof TrainingMemoryError ? new JobFailure('insufficient_memory', `The job failed: ${err.message}`, true)
      : new JobFailure('training_failed', `The trainer failed: ${userMessageOf(err)}`, false)
    if (!(err instanceof JobFailure)) log(`trainer error: ${(err as Error).stack}`)
    try {
      await client.status({ status: 'failed', error: { code: failure.code, message: failure.message } })
    } catch (reportErr) {
      if (!(reportErr instanceof TrainerProtocolError && reportErr.shouldStop)) throw reportErr
    }
    return { kind: 'failed', badInput: failure.badInput, message: failure.message }
  } finally {
    heartbeat.stop()
  }
}

// Checks the body of POST /v1/fine_tuning/jobs beyond its JSON shape (ranges, limits, the
// deprecated top-level hyperparameters) and normalises it. Every refusal names its `param`.
import { randomInt } from 'node:crypto'
import { invalidRequest } from '../lib/errors.ts'
import type { RequestedHyperparameters, RequestedMethod, TrainingExtensions } from '../db/schema/jobs.ts'
import { ANSWER_EVAL_LIMITS, ANSWER_GRADERS, answerMetricName, type AnswerGrader, DEFAULT_ANSWER_GRADERS } from '../protocol/answer-eval-settings.ts'
import { ADAPTERS, EVALUATION_LIMITS, GGUF_FILE_TYPES, LORA_LIMITS, LORA_MODULES, QLORA_BITS } from '../protocol/training-settings.ts'
import { CHECKPOINT_METRIC_NAMES, CHECKPOINT_METRICS, isCheckpointMetric, SERVED_CHECKPOINTS } from '../protocol/checkpoint-metrics.ts'

type Hyper = Record<string, unknown>

export interface CreateJobBody {
  model: string
  training_file: string
  validation_file?: string | null
  suffix?: string | null
  seed?: number | null
  metadata?: Record<string, unknown> | null
  hyperparameters?: Hyper
  method?: { type: string; supervised?: { hyperparameters?: Hyper }; dpo?: { hyperparameters?: Hyper }; reinforcement?: unknown }
  integrations?: unknown[] | null
  /** Skillet extension: validate and estimate, but do not train. */
  dry_run?: boolean
}

export interface NormalizedJobRequest {
  model: string
  trainingFile: string
  validationFile: string | null
  suffix: string | null
  seed: number
  metadata: Record<string, string> | null
  method: RequestedMethod
  integrations: unknown[] | null
  dryRun: boolean
}

/** The largest learning_rate_multiplier accepted (README, Limits). */
export const MAX_LEARNING_RATE_MULTIPLIER = 10

interface Range {
  integer?: boolean
  min: number
  max: number
  /** The minimum itself is not allowed (learning_rate_multiplier > 0, beta > 0). */
  exclusiveMin?: boolean
}

type NumericHyperparameter = Exclude<keyof RequestedHyperparameters, keyof TrainingExtensions>

const RANGES: Record<NumericHyperparameter, Range> = {
  n_epochs: { integer: true, min: 1, max: 50 },
  batch_size: { integer: true, min: 1, max: 256 },
  // OpenAI's spec says only "> 0"; past 10× the base rate training diverges (and 1e308 overflowed to a NaN model).
  learning_rate_multiplier: { min: 0, max: MAX_LEARNING_RATE_MULTIPLIER, exclusiveMin: true },
  beta: { min: 0, max: 2, exclusiveMin: true },
}

const EVAL_EXTENSIONS: (keyof TrainingExtensions)[] = ['eval_graders', 'eval_json_schema', 'eval_max_examples', 'eval_max_new_tokens']
const EXTENSIONS: (keyof TrainingExtensions)[] = ['adapter', 'qlora_bits', 'lora_r', 'lora_alpha', 'lora_dropout', 'lora_target_modules', 'gguf_type',
  'eval_every', 'early_stopping_patience', 'early_stopping_min_delta', 'best_checkpoint_metric', 'serve_checkpoint', 'forgetting_file', ...EVAL_EXTENSIONS]
const LORA_SHAPE: (keyof TrainingExtensions)[] = ['lora_r', 'lora_alpha', 'lora_dropout', 'lora_target_modules']

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ')

/** Skillet's extensions (how to train, what to export); every refusal names the field. */
function checkExtensions(given: Hyper, where: string, method: 'supervised' | 'dpo'): TrainingExtensions {
  const out: TrainingExtensions = {}
  const bad = (name: string, expected: string, value: unknown) =>
    invalidRequest(`Invalid value for '${where}.${name}': expected ${expected}, got ${JSON.stringify(value)}.`, `${where}.${name}`)
  const { adapter, lora_r: rank, lora_alpha: alpha, lora_dropout: dropout, lora_target_modules: targets, gguf_type: gguf } = given
  if (adapter !== undefined) {
    if (!(ADAPTERS as readonly unknown[]).includes(adapter)) throw bad('adapter', `one of ${quoted(ADAPTERS)}`, adapter)
    if (adapter === 'full' && method === 'dpo') throw invalidRequest(`Invalid value for '${where}.adapter': DPO trains LoRA adapters (its reference model is the base with the adapters off); 'full' is only for supervised fine-tuning.`, `${where}.adapter`)
    out.adapter = adapter as TrainingExtensions['adapter']
  }
  if (given.qlora_bits !== undefined) {
    if (out.adapter !== 'qlora') throw invalidRequest(`Invalid '${where}.qlora_bits': it applies only with 'adapter': 'qlora'.`, `${where}.qlora_bits`)
    if (!(QLORA_BITS as readonly unknown[]).includes(given.qlora_bits)) throw bad('qlora_bits', `one of ${QLORA_BITS.join(', ')}`, given.qlora_bits)
    out.qlora_bits = given.qlora_bits as number
  }
  if (out.adapter === 'full') {
    const shape = LORA_SHAPE.find((name) => given[name] !== undefined)
    if (shape) throw invalidRequest(`Invalid '${where}.${shape}': LoRA settings apply only with 'adapter': 'lora' or 'qlora', not with full fine-tuning.`, `${where}.${shape}`)
  }
  if (rank !== undefined) {
    if (!(Number.isInteger(rank) && (rank as number) >= 1 && (rank as number) <= LORA_LIMITS.maxRank)) throw bad('lora_r', `an integer between 1 and ${LORA_LIMITS.maxRank}`, rank)
    out.lora_r = rank as number
  }
  if (alpha !== undefined) {
    if (!(typeof alpha === 'number' && Number.isFinite(alpha) && alpha > 0 && alpha <= LORA_LIMITS.maxAlpha)) throw bad('lora_alpha', `a number greater than 0 and at most ${LORA_LIMITS.maxAlpha}`, alpha)
    out.lora_alpha = alpha
  }
  if (dropout !== undefined) {
    if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) throw bad('lora_dropout', 'a number from 0 up to (not including) 1', dropout)
    out.lora_dropout = dropout
  }
  if (targets !== undefined) {
    const list = Array.isArray(targets) ? targets : null
    if (!list || list.length === 0 || !list.every((m) => typeof m === 'string')) throw bad('lora_target_modules', `a non-empty array of module names (${quoted(LORA_MODULES)})`, targets)
    const unknown = list.find((m) => !(LORA_MODULES as readonly unknown[]).includes(m))
    if (unknown !== undefined) throw bad('lora_target_modules', `module names among ${quoted(LORA_MODULES)}`, unknown)
    out.lora_target_modules = [...new Set(list as string[])]
  }
  if (gguf !== undefined) {
    const list = typeof gguf === 'string' ? [gguf] : Array.isArray(gguf) ? gguf : null
    const expected = `one of ${quoted(GGUF_FILE_TYPES)} or a non-empty array of them`
    if (!list || list.length === 0) throw bad('gguf_type', expected, gguf)
    const unknown = list.find((x) => !(GGUF_FILE_TYPES as readonly unknown[]).includes(x))
    if (unknown !== undefined) throw bad('gguf_type', expected, unknown)
    out.gguf_type = [...new Set(list as string[])]
  }
  return { ...out, ...checkEvaluation(given, where), ...checkAnswerEval(given, where) }
}

const isIntegerIn = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max

/** The validation schedule, early stopping and the served checkpoint (README, Evaluation during training). */
function checkEvaluation(given: Hyper, where: string): TrainingExtensions {
  const out: TrainingExtensions = {}
  const bad = (name: string, expected: string, value: unknown) =>
    invalidRequest(`Invalid value for '${where}.${name}': expected ${expected}, got ${JSON.stringify(value)}.`, `${where}.${name}`)
  const { eval_every: every, early_stopping_patience: patience, early_stopping_min_delta: minDelta, best_checkpoint_metric: metric, serve_checkpoint: serve, forgetting_file: forgetting } = given
  if (every !== undefined && every !== 'auto') {
    if (!isIntegerIn(every, 1, EVALUATION_LIMITS.maxEvalEvery)) throw bad('eval_every', `an integer number of steps between 1 and ${EVALUATION_LIMITS.maxEvalEvery}`, every)
    out.eval_every = every
  }
  if (patience !== undefined) {
    if (!isIntegerIn(patience, 1, EVALUATION_LIMITS.maxPatience)) throw bad('early_stopping_patience', `an integer number of validation points between 1 and ${EVALUATION_LIMITS.maxPatience}`, patience)
    out.early_stopping_patience = patience
  }
  if (minDelta !== undefined) {
    if (!(typeof minDelta === 'number' && Number.isFinite(minDelta) && minDelta >= 0)) throw bad('early_stopping_min_delta', 'a number of at least 0', minDelta)
    if (patience === undefined) throw invalidRequest(`Invalid '${where}.early_stopping_min_delta': it applies only with '${where}.early_stopping_patience', which turns early stopping on.`, `${where}.early_stopping_min_delta`)
    out.early_stopping_min_delta = minDelta
  }
  if (metric !== undefined) {
    if (!isCheckpointMetric(metric)) throw bad('best_checkpoint_metric', `one of ${quoted(CHECKPOINT_METRIC_NAMES)}`, metric)
    out.best_checkpoint_metric = metric
  }
  if (serve !== undefined) {
    if (!(SERVED_CHECKPOINTS as readonly unknown[]).includes(serve)) throw bad('serve_checkpoint', `one of ${quoted(SERVED_CHECKPOINTS)}`, serve)
    out.serve_checkpoint = serve as TrainingExtensions['serve_checkpoint']
  }
  if (forgetting !== undefined) {
    if (!(typeof forgetting === 'string' && forgetting.length > 0 && forgetting.length <= 200)) throw bad('forgetting_file', 'the id of a file uploaded with purpose fine-tune', forgetting)
    out.forgetting_file = forgetting
  }
  return out
}

/** Settings that read the validation file are refused without one (they would silently do nothing). */
function refuseEvaluationWithoutValidationFile(method: RequestedMethod): void {
  const hyper = method.type === 'supervised' ? method.supervised.hyperparameters : method.dpo.hyperparameters
  const where = `method.${method.type}.hyperparameters`
  const needing = (['eval_every', 'early_stopping_patience'] as const).find((k) => hyper[k] !== undefined)
    ?? (hyper.best_checkpoint_metric !== undefined && isCheckpointMetric(hyper.best_checkpoint_metric) && CHECKPOINT_METRICS[hyper.best_checkpoint_metric].needsValidationFile ? 'best_checkpoint_metric' : undefined)
  if (needing) throw invalidRequest(`Invalid '${where}.${needing}': it needs a 'validation_file' to validate on.`, `${where}.${needing}`)
}

/** The answer evaluation's settings (src/protocol/answer-eval-settings.ts); every refusal names the field. */
function checkAnswerEval(given: Hyper, where: string): TrainingExtensions {
  const out: TrainingExtensions = {}
  const bad = (name: string, expected: string, value: unknown) =>
    invalidRequest(`Invalid value for '${where}.${name}': expected ${expected}, got ${JSON.stringify(value)}.`, `${where}.${name}`)
  const { eval_graders: graders, eval_json_schema: schema, eval_max_examples: examples, eval_max_new_tokens: tokens } = given
  if (graders !== undefined) {
    const expected = `an array of grader names among ${quoted(ANSWER_GRADERS)} (empty: no answer evaluation)`
    if (!Array.isArray(graders) || !graders.every((g) => typeof g === 'string')) throw bad('eval_graders', expected, graders)
    const unknown = graders.find((g) => !(ANSWER_GRADERS as readonly unknown[]).includes(g))
    if (unknown !== undefined) throw bad('eval_graders', expected, unknown)
    out.eval_graders = [...new Set(graders as string[])]
  }
  if (schema !== undefined) {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw bad('eval_json_schema', 'a JSON Schema object', schema)
    const bytes = Buffer.byteLength(JSON.stringify(schema))
    if (bytes > ANSWER_EVAL_LIMITS.maxJsonSchemaBytes) throw invalidRequest(`Invalid '${where}.eval_json_schema': at most ${ANSWER_EVAL_LIMITS.maxJsonSchemaBytes} bytes as JSON, got ${bytes}.`, `${where}.eval_json_schema`)
    if (!out.eval_graders?.includes('json_schema')) throw invalidRequest(`Invalid '${where}.eval_json_schema': it is used only by the 'json_schema' grader; add 'json_schema' to '${where}.eval_graders'.`, `${where}.eval_json_schema`)
    out.eval_json_schema = schema as Record<string, unknown>
  } else if (out.eval_graders?.includes('json_schema')) {
    throw invalidRequest(`Invalid '${where}.eval_graders': the 'json_schema' grader needs '${where}.eval_json_schema', the JSON Schema answers must match.`, `${where}.eval_graders`)
  }
  const integer = (name: 'eval_max_examples' | 'eval_max_new_tokens', value: unknown, max: number) => {
    if (!(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max)) throw bad(name, `an integer between 1 and ${max}`, value)
    out[name] = value as number
  }
  if (examples !== undefined) integer('eval_max_examples', examples, ANSWER_EVAL_LIMITS.maxExamples)
  if (tokens !== undefined) integer('eval_max_new_tokens', tokens, ANSWER_EVAL_LIMITS.maxNewTokens)
  // The best checkpoint by an answer score needs that score computed.
  const metric = given.best_checkpoint_metric
  const chosen: readonly string[] = out.eval_graders ?? DEFAULT_ANSWER_GRADERS
  const grader = typeof metric === 'string' ? (ANSWER_GRADERS as readonly string[]).find((g) => answerMetricName(g as AnswerGrader) === metric) : undefined
  if (grader !== undefined && !chosen.includes(grader)) {
    throw invalidRequest(`Invalid '${where}.best_checkpoint_metric': '${metric}' is the score of the '${grader}' grader, which this job does not run; add '${grader}' to '${where}.eval_graders' (now ${out.eval_graders ? `[${quoted(chosen)}]` : `the default, ${quoted(chosen)}`}).`, `${where}.best_checkpoint_metric`)
  }
  return out
}

/** The answer evaluation scores answers to the validation file: its settings need one. */
function refuseAnswerEvalWithoutValidation(method: RequestedMethod, validationFile: string | null): void {
  if (validationFile) return
  const hyper = method.type === 'supervised' ? method.supervised.hyperparameters : method.dpo.hyperparameters
  const name = EVAL_EXTENSIONS.find((k) => hyper[k] !== undefined)
  const where = `method.${method.type}.hyperparameters`
  if (name) throw invalidRequest(`Invalid '${where}.${name}': the answer evaluation scores answers to the validation file's prompts; give a 'validation_file'.`, `${where}.${name}`)
}

/**
 * A job that continues from a fine-tuned or checkpoint model trains that model's LoRA adapter as it
 * is: asking for full fine-tuning or another LoRA shape there would be silently ignored, so it is a 400.
 */
export function refuseAdapterChangesOnContinuation(method: RequestedMethod, model: string): void {
  const hyper = method.type === 'supervised' ? method.supervised.hyperparameters : method.dpo.hyperparameters
  const where = `method.${method.type}.hyperparameters`
  if (hyper.adapter === 'full') {
    throw invalidRequest(`Invalid value for '${where}.adapter': '${model}' is a fine-tuned model, and a job on it continues its LoRA adapter; start full fine-tuning from its base model.`, `${where}.adapter`)
  }
  const shape = LORA_SHAPE.find((k) => hyper[k] !== undefined)
  if (shape) {
    throw invalidRequest(`Invalid '${where}.${shape}': a job on the fine-tuned model '${model}' keeps its LoRA adapter's shape; leave '${shape}' out, or start from the base model.`, `${where}.${shape}`)
  }
}

function checkHyperparameters(given: Hyper | undefined, allowed: NumericHyperparameter[], where: string, method: 'supervised' | 'dpo'): RequestedHyperparameters {
  const out: RequestedHyperparameters = checkExtensions(given ?? {}, where, method)
  for (const [name, value] of Object.entries(given ?? {})) {
    const param = `${where}.${name}`
    if ((EXTENSIONS as string[]).includes(name)) continue
    if (!(allowed as string[]).includes(name)) throw invalidRequest(`Unrecognized hyperparameter '${name}' for this method.`, param)
    const range = RANGES[name as NumericHyperparameter]
    if (value === 'auto') {
      out[name as NumericHyperparameter] = 'auto'
      continue
    }
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!range.integer || Number.isInteger(value)) &&
      (range.exclusiveMin ? value > range.min : value >= range.min) &&
      value <= range.max
    if (!ok) {
      const bound = range.exclusiveMin ? `greater than ${range.min} and at most ${range.max}` : `between ${range.min} and ${range.max}`
      throw invalidRequest(`Invalid value for '${param}': expected 'auto' or ${range.integer ? 'an integer' : 'a number'} ${bound}, got ${JSON.stringify(value)}.`, param)
    }
    out[name as NumericHyperparameter] = value as number
  }
  for (const name of allowed) out[name] ??= 'auto'
  return out
}

function checkMethod(body: CreateJobBody): RequestedMethod {
  const { method, hyperparameters } = body
  if (method && hyperparameters) {
    throw invalidRequest("Pass hyperparameters under 'method' only: the top-level 'hyperparameters' is deprecated and cannot be combined with 'method'.", 'hyperparameters')
  }
  if (!method) {
    // Deprecated form: top-level hyperparameters mean supervised fine-tuning.
    return { type: 'supervised', supervised: { hyperparameters: checkHyperparameters(hyperparameters, ['n_epochs', 'batch_size', 'learning_rate_multiplier'], 'hyperparameters', 'supervised') } }
  }
  if (method.type === 'supervised') {
    return {
      type: 'supervised',
      supervised: { hyperparameters: checkHyperparameters(method.supervised?.hyperparameters, ['n_epochs', 'batch_size', 'learning_rate_multiplier'], 'method.supervised.hyperparameters', 'supervised') },
    }
  }
  if (method.type === 'dpo') {
    return {
      type: 'dpo',
      dpo: { hyperparameters: checkHyperparameters(method.dpo?.hyperparameters, ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'beta'], 'method.dpo.hyperparameters', 'dpo') },
    }
  }
  throw invalidRequest(`Invalid value for 'method.type': '${method.type}' is not supported; use 'supervised' or 'dpo'.`, 'method.type')
}

function checkMetadata(metadata: Record<string, unknown> | null | undefined): Record<string, string> | null {
  if (metadata === undefined || metadata === null) return null
  const entries = Object.entries(metadata)
  if (entries.length > 16) throw invalidRequest(`Invalid 'metadata': at most 16 key-value pairs are allowed, got ${entries.length}.`, 'metadata')
  for (const [key, value] of entries) {
    if (key.length > 64) throw invalidRequest(`Invalid 'metadata': keys are at most 64 characters, '${key.slice(0, 20)}…' has ${key.length}.`, `metadata.${key}`)
    if (typeof value !== 'string') throw invalidRequest(`Invalid 'metadata.${key}': values must be strings.`, `metadata.${key}`)
    if (value.length > 512) throw invalidRequest(`Invalid 'metadata.${key}': values are at most 512 characters, got ${value.length}.`, `metadata.${key}`)
  }
  return metadata as Record<string, string>
}

const SUFFIX = /^[A-Za-z0-9._-]{1,64}$/

export function normalizeCreateJob(body: CreateJobBody): NormalizedJobRequest {
  if (body.suffix !== undefined && body.suffix !== null && !SUFFIX.test(body.suffix)) {
    throw invalidRequest(`Invalid value for 'suffix': 1 to 64 characters among letters, digits, '.', '_' and '-'.`, 'suffix')
  }
  if (body.seed !== undefined && body.seed !== null && !(Number.isInteger(body.seed) && body.seed >= 0 && body.seed <= 2147483647)) {
    throw invalidRequest(`Invalid value for 'seed': an integer between 0 and 2147483647.`, 'seed')
  }
  if (body.integrations && body.integrations.length > 5) throw invalidRequest("Invalid 'integrations': at most 5 are allowed.", 'integrations')
  const method = checkMethod(body)
  refuseAnswerEvalWithoutValidation(method, body.validation_file ?? null)
  if (!body.validation_file) refuseEvaluationWithoutValidationFile(method)
  return {
    model: body.model,
    trainingFile: body.training_file,
    validationFile: body.validation_file ?? null,
    suffix: body.suffix ?? null,
    seed: body.seed ?? randomInt(0, 2147483647),
    metadata: checkMetadata(body.metadata),
    method,
    integrations: body.integrations ?? null,
    dryRun: body.dry_run === true,
  }
}

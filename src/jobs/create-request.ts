// Checks the body of POST /v1/fine_tuning/jobs beyond its JSON shape (ranges, limits, the
// deprecated top-level hyperparameters) and normalises it. Every refusal names its `param`.
import { randomInt } from 'node:crypto'
import { invalidRequest } from '../lib/errors.ts'
import type { RequestedHyperparameters, RequestedMethod } from '../db/schema/jobs.ts'

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

const RANGES: Record<keyof RequestedHyperparameters, Range> = {
  n_epochs: { integer: true, min: 1, max: 50 },
  batch_size: { integer: true, min: 1, max: 256 },
  // OpenAI's spec says only "> 0"; past 10× the base rate training diverges (and 1e308 overflowed to a NaN model).
  learning_rate_multiplier: { min: 0, max: MAX_LEARNING_RATE_MULTIPLIER, exclusiveMin: true },
  beta: { min: 0, max: 2, exclusiveMin: true },
}

function checkHyperparameters(given: Hyper | undefined, allowed: (keyof RequestedHyperparameters)[], where: string): RequestedHyperparameters {
  const out: RequestedHyperparameters = {}
  for (const [name, value] of Object.entries(given ?? {})) {
    const param = `${where}.${name}`
    if (!(allowed as string[]).includes(name)) throw invalidRequest(`Unrecognized hyperparameter '${name}' for this method.`, param)
    const range = RANGES[name as keyof RequestedHyperparameters]
    if (value === 'auto') {
      out[name as keyof RequestedHyperparameters] = 'auto'
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
    out[name as keyof RequestedHyperparameters] = value as number
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
    return { type: 'supervised', supervised: { hyperparameters: checkHyperparameters(hyperparameters, ['n_epochs', 'batch_size', 'learning_rate_multiplier'], 'hyperparameters') } }
  }
  if (method.type === 'supervised') {
    return {
      type: 'supervised',
      supervised: { hyperparameters: checkHyperparameters(method.supervised?.hyperparameters, ['n_epochs', 'batch_size', 'learning_rate_multiplier'], 'method.supervised.hyperparameters') },
    }
  }
  if (method.type === 'dpo') {
    return {
      type: 'dpo',
      dpo: { hyperparameters: checkHyperparameters(method.dpo?.hyperparameters, ['n_epochs', 'batch_size', 'learning_rate_multiplier', 'beta'], 'method.dpo.hyperparameters') },
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
  return {
    model: body.model,
    trainingFile: body.training_file,
    validationFile: body.validation_file ?? null,
    suffix: body.suffix ?? null,
    seed: body.seed ?? randomInt(0, 2147483647),
    metadata: checkMetadata(body.metadata),
    method: checkMethod(body),
    integrations: body.integrations ?? null,
    dryRun: body.dry_run === true,
  }
}

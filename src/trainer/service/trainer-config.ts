// The only place the service's trainer reads its environment (as src/config does for the API).
// The launcher sets the job (SKILLET_JOB_SPEC, SKILLET_JOB_TOKEN, SKILLET_CALLBACK_URL — see
// src/protocol/trainer-env.ts); the blob store settings use the API's own names and defaults
// read by src/config's readBlobStoreSettings (SKILLET_S3_* for S3, else SKILLET_DATA_DIR/blobs), so a trainer
// started with the server's environment finds the same blobs. Everything is checked here, once:
// a bad setting is input the trainer can never run with, reported as a TrainerConfigError.
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Value } from 'typebox/value'
import { GGUF_FILE_TYPES } from '../../protocol/training-settings.ts'
import { TrainerJobSpecSchema, type TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'
import { blobStoreConfigFor, type BlobStoreConfig } from '../../storage/index.ts'
import { readBlobStoreSettings } from '../../config/index.ts'
import { type BackendName, backendSettingsFromEnv, type MatMulSetting, type ThreadSetting } from '../backend/select-backend.ts'
import type { GgufFileType } from '../export/gguf.ts'
import { type GradientCheckpointing, parseGradientCheckpointing } from '../backend/memory-plan.ts'

export interface TrainerConfig {
  spec: TrainerJobSpec
  token: string
  /** Base URL of the internal trainer endpoints (SKILLET_CALLBACK_URL, else the spec's). */
  callbackUrl: string
  blobStore: BlobStoreConfig
  /**
   * threads: SKILLET_TRAINER_THREADS, the wasm backend's thread count ('auto': the cores the process may use);
   * matmul: SKILLET_TRAINER_MATMUL, what computes its matrix products.
   */
  backend: { requested: BackendName | 'auto'; requireGpu: boolean; threads: ThreadSetting; matmul: MatMulSetting }
  /** Scratch space: a blob-store model's local copy, the exports before upload. */
  workDir: string
  heartbeatSeconds: number
  /** Extra checkpoints every N optimizer steps (0: only each epoch and on pause). */
  checkpointEverySteps: number
  /** SKILLET_TRAINER_GRADIENT_CHECKPOINTING: recompute blocks in the backward pass (auto: when a step would not fit the wasm heap otherwise). */
  gradientCheckpointing: GradientCheckpointing
  /** GGUF type of the exported model; null exports none. */
  gguf: GgufFileType | null
  /** Local executor: the server that launched this trainer (SKILLET_PARENT_PID); exit when it is gone. */
  parentPid: number | null
}

export class TrainerConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`invalid trainer configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'TrainerConfigError'
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

function parseSpec(raw: string | undefined, problems: string[]): TrainerJobSpec | null {
  if (!raw) {
    problems.push('SKILLET_JOB_SPEC is not set')
    return null
  }
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    problems.push('SKILLET_JOB_SPEC is not valid JSON')
    return null
  }
  if (Value.Check(TrainerJobSpecSchema, value)) return value
  // A union reports every branch; the first error per location is the useful one.
  const seen = new Set<string>()
  for (const e of Value.Errors(TrainerJobSpecSchema, value)) {
    if (seen.has(e.instancePath)) continue
    seen.add(e.instancePath)
    problems.push(`SKILLET_JOB_SPEC${e.instancePath || ' '}: ${e.message}`)
  }
  return null
}

const positiveInt = (env: Env, name: string, fallback: number, problems: string[], min = 1): number => {
  const v = env[name]?.trim()
  if (!v) return fallback
  if (!/^\d+$/.test(v) || Number(v) < min) {
    problems.push(`${name} must be an integer of at least ${min}, got "${v}"`)
    return fallback
  }
  return Number(v)
}

/** `parse()`, or `fallback` with its error among the problems. */
function setting<T>(parse: () => T, fallback: T, problems: string[]): T {
  try {
    return parse()
  } catch (err) {
    problems.push((err as Error).message)
    return fallback
  }
}

function ggufType(env: Env, problems: string[]): GgufFileType | null {
  const v = (env.SKILLET_TRAINER_GGUF_TYPE ?? '').trim().toUpperCase()
  if (v === '') return 'F16'
  if (v === 'NONE') return null
  const type = GGUF_FILE_TYPES.find((t) => t === v)
  if (type) return type
  problems.push(`SKILLET_TRAINER_GGUF_TYPE must be ${GGUF_FILE_TYPES.join(', ')} or none, got "${v}"`)
  return 'F16'
}

/** Reads and checks the trainer's whole configuration; throws TrainerConfigError listing every problem. */
export function loadTrainerConfig(env: Env = process.env): TrainerConfig {
  const problems: string[] = []
  const spec = parseSpec(env.SKILLET_JOB_SPEC, problems)
  const token = env.SKILLET_JOB_TOKEN?.trim() ?? ''
  if (!token) problems.push('SKILLET_JOB_TOKEN is not set')
  const callbackUrl = env.SKILLET_CALLBACK_URL?.trim() || spec?.callbackUrl || ''
  if (callbackUrl && !/^https?:\/\//.test(callbackUrl)) problems.push(`SKILLET_CALLBACK_URL must be an http(s) URL`)
  let backend: TrainerConfig['backend'] = { requested: 'auto', requireGpu: false, threads: 'auto', matmul: 'auto' }
  try {
    backend = backendSettingsFromEnv(env)
  } catch (err) {
    problems.push((err as Error).message)
  }
  const config = {
    token,
    callbackUrl,
    blobStore: blobStoreConfigFor(readBlobStoreSettings(env, problems)),
    backend,
    workDir: path.resolve(env.SKILLET_TRAINER_WORK_DIR?.trim() || path.join(tmpdir(), 'skillet-trainer')),
    heartbeatSeconds: positiveInt(env, 'SKILLET_TRAINER_HEARTBEAT_SECONDS', 10, problems),
    checkpointEverySteps: positiveInt(env, 'SKILLET_TRAINER_CHECKPOINT_EVERY_STEPS', 0, problems, 0),
    gradientCheckpointing: setting(() => parseGradientCheckpointing(env.SKILLET_TRAINER_GRADIENT_CHECKPOINTING), 'auto' as const, problems),
    gguf: ggufType(env, problems),
    parentPid: positiveInt(env, 'SKILLET_PARENT_PID', 0, problems, 0) || null,
  }
  if (problems.length > 0 || !spec) throw new TrainerConfigError(problems)
  return { spec, ...config }
}

/**
 * What a standby trainer (standby.ts) reads before its job: the backend settings (null when they
 * are bad: loadTrainerConfig reports that once the job is there) and the server that launched it.
 */
export function loadStandbySettings(env: Env = process.env): { backend: TrainerConfig['backend'] | null; parentPid: number | null } {
  let backend: TrainerConfig['backend'] | null = null
  try {
    backend = backendSettingsFromEnv(env)
  } catch {
    // Reported with the job.
  }
  return { backend, parentPid: positiveInt(env, 'SKILLET_PARENT_PID', 0, [], 0) || null }
}

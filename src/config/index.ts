// The only module that reads the environment. Every setting is parsed and checked here, once,
// at start; a bad value stops the process with one clear line per problem.
import path from 'node:path'
import type { KubernetesExecutorConfig } from './kubernetes-executor-config.ts'
import { parseKubernetesExecutorConfig } from './kubernetes-executor-schema.ts'

export interface S3Config {
  bucket: string
  endpoint: string | undefined
  region: string
  forcePathStyle: boolean
  prefix: string
}

export interface Config {
  port: number
  host: string
  /** Postgres URL; when absent the embedded PGlite database under dataDir is used. */
  databaseUrl: string | undefined
  dataDir: string
  /** Bootstrap admin key of the default project; when absent one is generated on first start. */
  apiKey: string | undefined
  /** S3 settings; when absent blobs live on the local filesystem under dataDir. */
  s3: S3Config | undefined
  logLevel: string
  /** Largest file accepted by POST /v1/files, in bytes. */
  maxFileBytes: number
  /** Largest total declared for POST /v1/uploads, in bytes. */
  maxUploadBytes: number
  /** Largest single part of an Upload, in bytes. */
  maxUploadPartBytes: number
  /** Seconds before an unfinished Upload expires. */
  uploadTtlSeconds: number
  /** Requests per minute allowed per API key. */
  rateLimitPerMinute: number
  /** Longest line accepted in a fine-tune JSONL file, in bytes. */
  maxJsonlLineBytes: number
  /** How long SIGTERM waits for in-flight requests before exiting, in ms. */
  shutdownGraceMs: number
  /** Fine-tuning jobs: base models, scheduler, local trainers. */
  jobs: JobsConfig
  /** Webhook delivery: SSRF allow list, timeouts, dispatcher polling. */
  webhooks: WebhooksConfig
  /** Where trainers run: child processes of this machine, or Kubernetes Jobs. */
  executor: ExecutorConfig
  /** Prometheus metrics: a separate port, and/or /metrics on the API port behind a bearer token. */
  metrics: MetricsConfig
  /** SKILLET_UI: serve the web dashboard at `/` (built from src/ui/ on first start when its bundle is missing or stale). */
  ui: boolean
  /** Chat Completions and Completions: the embedded llama.cpp engine's limits, or a remote engine. */
  inference: InferenceConfig
  /** The graders API: where score_model / label_model graders send their prompts. */
  graders: GradersConfig
}

export interface GradersConfig {
  /** SKILLET_GRADER_MODEL_URL: base URL of an OpenAI-compatible API (`…/v1`) model graders call; absent: model graders are refused. */
  modelUrl: string | undefined
  /** SKILLET_GRADER_MODEL_API_KEY: bearer token sent to it. */
  modelApiKey: string | undefined
  /** SKILLET_GRADER_MODEL_TIMEOUT_MS: how long one model grader call may take. */
  modelTimeoutMs: number
}

export interface InferenceConfig {
  /** SKILLET_INFERENCE_URL: an OpenAI-compatible engine (vLLM, llama-server) to forward to; absent: the embedded engine. */
  url: string | undefined
  /** SKILLET_INFERENCE_API_KEY: bearer token sent to the remote engine. */
  apiKey: string | undefined
  /** SKILLET_INFERENCE_ENGINE: what the remote engine is (`vllm` loads LoRA adapters through its API; `openai` forwards names as they are). */
  engineKind: 'vllm' | 'openai'
  /** SKILLET_INFERENCE_ADAPTER_DIR: with vllm, where adapters are copied for the engine to read (shared volume, same path). */
  adapterDir: string
  /** Models kept loaded at once (least recently used unloads first). */
  maxLoadedModels: number
  /** Memory the loaded models may take together (weights + context), in bytes. */
  memoryBudgetBytes: number
  /** A loaded model unused this long is unloaded. */
  idleUnloadSeconds: number
  /** Requests generating at once per model (llama.cpp sequences of one context). */
  parallel: number
  /** Requests waiting per model beyond `parallel`; past it: 429. */
  maxQueue: number
  /** Largest context per request, in tokens (capped by the model's own). */
  contextSize: number
  /** CPU threads llama.cpp uses; 0: its default. */
  threads: number
}

export type ExecutorConfig = { kind: 'local' } | KubernetesConfig

export interface KubernetesConfig {
  kind: 'kubernetes'
  /** SKILLET_KUBERNETES_EXECUTOR: how trainer Jobs are shaped (namespace, image, GPUs, Kueue, ...). */
  executor: KubernetesExecutorConfig
  /** KUBECONFIG: a kubeconfig file; absent means in-cluster credentials (or ~/.kube/config). */
  kubeconfigPath: string | undefined
  /** How often every Job and pod is listed again (watches fill the gaps in between), and orphans swept. */
  resyncIntervalMs: number
}

export interface MetricsConfig {
  /** SKILLET_METRICS_PORT: a separate listener serving only GET /metrics; 0 turns it off. */
  port: number
  /** SKILLET_METRICS_TOKEN: when set, GET /metrics on the API port answers to `Authorization: Bearer <token>`. */
  token: string | undefined
}

export interface WebhooksConfig {
  /**
   * SKILLET_WEBHOOK_ALLOW_HOSTS: host names or IP literals (lower case, IPv6 without brackets) that endpoint
   * URLs may use although they resolve to private, loopback or link-local addresses. Empty: all such URLs are refused.
   */
  allowHosts: string[]
  /** How long one delivery attempt may take before it counts as failed, in ms. */
  timeoutMs: number
  /** How often the dispatcher looks for due deliveries, in ms. */
  pollMs: number
}

/** A base model's weights: a Hugging Face-format directory, a blob-store prefix, or a Hub repo fetched once. */
export type BaseModelSource = { kind: 'dir'; path: string } | { kind: 'blob'; prefix: string } | { kind: 'hub'; repo: string; revision: string }

export interface JobsConfig {
  /** SKILLET_BASE_MODELS: `id=source,…` or a JSON object {id: source}; source is a path, `blob:PREFIX` or `hf:OWNER/REPO[@REV]`. */
  baseModels: Record<string, BaseModelSource>
  /** True when SKILLET_BASE_MODELS is unset and the generated tiny demo model is the only base model. */
  demoModel: boolean
  /** Hugging Face Hub base URL (tests point it at a loopback fake). */
  hubEndpoint: string
  hubToken: string | undefined
  /** Command that runs one trainer as a child process (local executor). */
  trainerCommand: string[]
  /** Trainers the local executor runs at once. */
  localMaxTrainers: number
  /** Standby trainers the local executor keeps started ahead of their jobs (warm start); 0: none. Default 1, 0 with a SKILLET_TRAINER_COMMAND. */
  warmTrainers: number
  /** Jobs running at once across all projects, and per project. */
  maxRunningJobs: number
  maxRunningJobsPerProject: number
  /** A running job whose trainer has not sent a heartbeat for this long is retried or failed. */
  heartbeatTimeoutSeconds: number
  /** Attempts per job before a lost trainer fails the job. */
  maxAttempts: number
  schedulerIntervalMs: number
  /**
   * SKILLET_INTERNAL_URL (older name: SKILLET_CALLBACK_URL): base URL trainers report to (…/internal/v1);
   * defaults to this server on loopback, which only a local trainer can reach.
   */
  callbackUrl: string | undefined
  /** Training throughput assumed for the duration estimate, in tokens per second. */
  estimateTokensPerSecond: number
  /** Whether the API process also runs the scheduler (embedded mode); a separate `worker` process otherwise. */
  runWorkerInProcess: boolean
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

/** Reads and checks the whole configuration; throws ConfigError listing every bad value. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = []
  const read = new EnvReader(env, problems)

  const blobStore = readBlobStoreSettings(env, problems)
  const config: Config = {
    port: read.int('PORT', 8080, { min: 0, max: 65535 }),
    host: read.string('HOST') ?? '0.0.0.0',
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: blobStore.dataDir,
    apiKey: read.apiKey('SKILLET_API_KEY'),
    s3: blobStore.s3,
    logLevel: read.oneOf('SKILLET_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    maxFileBytes: read.bytes('SKILLET_MAX_FILE_BYTES', 512 * 1000 * 1000),
    maxUploadBytes: read.bytes('SKILLET_MAX_UPLOAD_BYTES', 8 * 1000 * 1000 * 1000),
    maxUploadPartBytes: read.bytes('SKILLET_MAX_UPLOAD_PART_BYTES', 64 * 1000 * 1000),
    uploadTtlSeconds: read.int('SKILLET_UPLOAD_TTL_SECONDS', 3600, { min: 60 }),
    rateLimitPerMinute: read.int('SKILLET_RATE_LIMIT_PER_MINUTE', 600, { min: 1 }),
    maxJsonlLineBytes: read.bytes('SKILLET_MAX_JSONL_LINE_BYTES', 10 * 1000 * 1000),
    shutdownGraceMs: read.int('SKILLET_SHUTDOWN_GRACE_MS', 30_000, { min: 0 }),
    jobs: readJobsConfig(read, env, problems),
    webhooks: {
      allowHosts: read.hostList('SKILLET_WEBHOOK_ALLOW_HOSTS'),
      timeoutMs: read.int('SKILLET_WEBHOOK_TIMEOUT_MS', 15_000, { min: 100, max: 120_000 }),
      pollMs: read.int('SKILLET_WEBHOOK_POLL_MS', 1000, { min: 10, max: 60_000 }),
    },
    executor: readExecutorConfig(read, problems),
    metrics: {
      port: read.int('SKILLET_METRICS_PORT', 9464, { min: 0, max: 65535 }),
      token: read.secret('SKILLET_METRICS_TOKEN', 16),
    },
    ui: read.bool('SKILLET_UI', true),
    inference: {
      url: read.url('SKILLET_INFERENCE_URL', ['http:', 'https:']),
      apiKey: read.string('SKILLET_INFERENCE_API_KEY'),
      engineKind: read.oneOf('SKILLET_INFERENCE_ENGINE', ['vllm', 'openai'], 'openai'),
      adapterDir: path.resolve(read.string('SKILLET_INFERENCE_ADAPTER_DIR') ?? path.join(path.resolve(read.string('SKILLET_DATA_DIR') ?? './data'), 'inference', 'adapters')),
      maxLoadedModels: read.int('SKILLET_INFERENCE_MAX_LOADED_MODELS', 2, { min: 1, max: 64 }),
      memoryBudgetBytes: read.bytes('SKILLET_INFERENCE_MEMORY_BUDGET', 8 * 1024 ** 3),
      idleUnloadSeconds: read.int('SKILLET_INFERENCE_IDLE_UNLOAD_SECONDS', 600, { min: 1 }),
      parallel: read.int('SKILLET_INFERENCE_PARALLEL', 4, { min: 1, max: 64 }),
      maxQueue: read.int('SKILLET_INFERENCE_MAX_QUEUE', 16, { min: 0, max: 10_000 }),
      contextSize: read.int('SKILLET_INFERENCE_CONTEXT_SIZE', 4096, { min: 64, max: 1_048_576 }),
      threads: read.int('SKILLET_INFERENCE_THREADS', 0, { min: 0, max: 1024 }),
    },
    graders: {
      modelUrl: read.url('SKILLET_GRADER_MODEL_URL', ['http:', 'https:']),
      modelApiKey: read.string('SKILLET_GRADER_MODEL_API_KEY'),
      modelTimeoutMs: read.int('SKILLET_GRADER_MODEL_TIMEOUT_MS', 60_000, { min: 100, max: 600_000 }),
    },
  }
  if (config.metrics.port !== 0 && config.metrics.port === config.port) {
    problems.push(`SKILLET_METRICS_PORT must differ from PORT (both are ${config.port}); set SKILLET_METRICS_PORT=0 to turn the metrics port off`)
  }
  if (config.executor.kind === 'kubernetes' && !config.jobs.callbackUrl) {
    problems.push('SKILLET_INTERNAL_URL is required with SKILLET_EXECUTOR=kubernetes: trainer pods call the API back at it (e.g. http://skillet.skillet.svc/internal/v1)')
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}

/**
 * Where blobs live (SKILLET_DATA_DIR, SKILLET_S3_*), read the same way by the API and by its trainers
 * (src/trainer/service/trainer-config.ts); blobStoreEnv (blob-store-env.ts) writes these names back
 * for a trainer. Problems are added to `problems`.
 */
export function readBlobStoreSettings(env: Env, problems: string[]): Pick<Config, 'dataDir' | 's3'> {
  const read = new EnvReader(env, problems)
  const bucket = read.string('SKILLET_S3_BUCKET')
  if (!bucket) {
    for (const name of ['SKILLET_S3_ENDPOINT', 'SKILLET_S3_PREFIX', 'SKILLET_S3_FORCE_PATH_STYLE']) {
      if (env[name]) problems.push(`${name} is set but SKILLET_S3_BUCKET is not: set the bucket to use S3`)
    }
  }
  return {
    dataDir: path.resolve(read.string('SKILLET_DATA_DIR') ?? './data'),
    s3: bucket
      ? {
          bucket,
          endpoint: read.url('SKILLET_S3_ENDPOINT', ['http:', 'https:']),
          region: read.string('SKILLET_S3_REGION') ?? env.AWS_REGION ?? 'us-east-1',
          forcePathStyle: read.bool('SKILLET_S3_FORCE_PATH_STYLE', false),
          prefix: read.string('SKILLET_S3_PREFIX') ?? '',
        }
      : undefined,
  }
}

/** The demo model's id, generated under the data dir on first start when no base models are configured. */
export const DEMO_MODEL_ID = 'skillet-tiny-llama'

function readJobsConfig(read: EnvReader, env: Env, problems: string[]): JobsConfig {
  const dataDir = path.resolve(read.string('SKILLET_DATA_DIR') ?? './data')
  const listed = read.string('SKILLET_BASE_MODELS')
  const baseModels = listed ? parseBaseModels(listed, problems) : { [DEMO_MODEL_ID]: { kind: 'dir' as const, path: path.join(dataDir, 'models', DEMO_MODEL_ID) } }
  return {
    baseModels,
    demoModel: !listed,
    hubEndpoint: read.url('SKILLET_HF_ENDPOINT', ['http:', 'https:']) ?? 'https://huggingface.co',
    hubToken: read.string('SKILLET_HF_TOKEN') ?? env.HF_TOKEN,
    trainerCommand: (read.string('SKILLET_TRAINER_COMMAND') ?? `${process.execPath} src/cli/trainer.ts`).split(/\s+/),
    localMaxTrainers: read.int('SKILLET_LOCAL_MAX_TRAINERS', 1, { min: 1 }),
    // Standbys need Skillet's trainer (its standby mode): none by default with another command.
    warmTrainers: read.int('SKILLET_WARM_TRAINERS', read.string('SKILLET_TRAINER_COMMAND') ? 0 : 1, { min: 0 }),
    maxRunningJobs: read.int('SKILLET_MAX_RUNNING_JOBS', 16, { min: 1 }),
    maxRunningJobsPerProject: read.int('SKILLET_MAX_RUNNING_JOBS_PER_PROJECT', 4, { min: 1 }),
    heartbeatTimeoutSeconds: read.int('SKILLET_HEARTBEAT_TIMEOUT_SECONDS', 120, { min: 1 }),
    maxAttempts: read.int('SKILLET_JOB_MAX_ATTEMPTS', 3, { min: 1 }),
    schedulerIntervalMs: read.int('SKILLET_SCHEDULER_INTERVAL_MS', 1000, { min: 10 }),
    callbackUrl: read.url('SKILLET_INTERNAL_URL', ['http:', 'https:']) ?? read.url('SKILLET_CALLBACK_URL', ['http:', 'https:']),
    estimateTokensPerSecond: read.int('SKILLET_ESTIMATE_TOKENS_PER_SECOND', 2000, { min: 1 }),
    runWorkerInProcess: read.bool('SKILLET_RUN_WORKER', true),
  }
}

function readExecutorConfig(read: EnvReader, problems: string[]): ExecutorConfig {
  const kind = read.oneOf('SKILLET_EXECUTOR', ['local', 'kubernetes'], 'local')
  const json = read.string('SKILLET_KUBERNETES_EXECUTOR')
  if (kind === 'local') {
    if (json) problems.push('SKILLET_KUBERNETES_EXECUTOR is set but SKILLET_EXECUTOR is not kubernetes: set SKILLET_EXECUTOR=kubernetes to use it')
    return { kind }
  }
  const resyncIntervalMs = read.int('SKILLET_KUBERNETES_RESYNC_SECONDS', 30, { min: 1, max: 3600 }) * 1000
  const kubeconfigPath = read.string('KUBECONFIG')
  if (!json) {
    problems.push('SKILLET_KUBERNETES_EXECUTOR is required with SKILLET_EXECUTOR=kubernetes: a JSON object with at least "namespace" and "image"')
    return { kind, executor: { namespace: '', image: '' }, kubeconfigPath, resyncIntervalMs }
  }
  const parsed = parseKubernetesExecutorConfig(json)
  if ('problems' in parsed) {
    for (const p of parsed.problems) problems.push(p.startsWith('/') ? `SKILLET_KUBERNETES_EXECUTOR: ${p}` : `SKILLET_KUBERNETES_EXECUTOR ${p}`)
    return { kind, executor: { namespace: '', image: '' }, kubeconfigPath, resyncIntervalMs }
  }
  return { kind, executor: parsed.config, kubeconfigPath, resyncIntervalMs }
}

/** `id=source,id2=source2` or `{"id": "source"}`; see JobsConfig.baseModels. */
export function parseBaseModels(value: string, problems: string[]): Record<string, BaseModelSource> {
  let pairs: [string, unknown][]
  if (value.startsWith('{')) {
    try {
      pairs = Object.entries(JSON.parse(value) as Record<string, unknown>)
    } catch {
      problems.push('SKILLET_BASE_MODELS starts with { but is not valid JSON')
      return {}
    }
  } else {
    pairs = value.split(',').map((item) => {
      const at = item.indexOf('=')
      return at < 0 ? [item.trim(), undefined] : [item.slice(0, at).trim(), item.slice(at + 1).trim()]
    })
  }
  const models: Record<string, BaseModelSource> = {}
  for (const [id, source] of pairs) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._\/-]{0,127}$/.test(id) || typeof source !== 'string' || source === '') {
      problems.push(`SKILLET_BASE_MODELS: "${id}" needs the form id=source, the id made of letters, digits, . _ - /`)
      continue
    }
    if (source.startsWith('hf:')) {
      const [repo, revision = 'main'] = source.slice(3).split('@')
      if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) problems.push(`SKILLET_BASE_MODELS: ${id}: "${source}" is not hf:OWNER/REPO[@REVISION]`)
      models[id] = { kind: 'hub', repo, revision }
    } else if (source.startsWith('blob:')) {
      models[id] = { kind: 'blob', prefix: source.slice(5).replace(/\/?$/, '/') }
    } else {
      models[id] = { kind: 'dir', path: path.resolve(source) }
    }
  }
  return models
}

/** Small typed readers that record a problem instead of throwing, so all problems are reported at once. */
class EnvReader {
  private readonly env: Env
  private readonly problems: string[]
  constructor(env: Env, problems: string[]) {
    this.env = env
    this.problems = problems
  }

  string(name: string): string | undefined {
    const v = this.env[name]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }

  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const v = this.string(name)
    if (v === undefined) return fallback
    const n = Number(v)
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) {
      this.problems.push(`${name} must be an integer, got "${v}"`)
      return fallback
    }
    if (range.min !== undefined && n < range.min) this.problems.push(`${name} must be at least ${range.min}, got ${n}`)
    if (range.max !== undefined && n > range.max) this.problems.push(`${name} must be at most ${range.max}, got ${n}`)
    return n
  }

  /** A byte count: a plain integer, or with a unit (kB, MB, GB = powers of 1000; KiB, MiB, GiB = of 1024). */
  bytes(name: string, fallback: number): number {
    const v = this.string(name)
    if (v === undefined) return fallback
    const m = /^(\d+)\s*(b|kb|mb|gb|kib|mib|gib)?$/i.exec(v)
    const units: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }
    if (!m) {
      this.problems.push(`${name} must be a byte count like 512MB or 1048576, got "${v}"`)
      return fallback
    }
    const n = Number(m[1]) * units[(m[2] ?? 'b').toLowerCase()]
    if (n <= 0) this.problems.push(`${name} must be positive, got "${v}"`)
    return n
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.string(name)
    if (v === undefined) return fallback
    if (/^(1|true|yes|on)$/i.test(v)) return true
    if (/^(0|false|no|off)$/i.test(v)) return false
    this.problems.push(`${name} must be true or false, got "${v}"`)
    return fallback
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.string(name)
    if (v === undefined) return fallback
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${v}"`)
      return fallback
    }
    return v as T
  }

  url(name: string, protocols: string[]): string | undefined {
    const v = this.string(name)
    if (v === undefined) return undefined
    let parsed: URL
    try {
      parsed = new URL(v)
    } catch {
      this.problems.push(`${name} must be a URL, got a value that does not parse`)
      return undefined
    }
    if (!protocols.includes(parsed.protocol)) {
      this.problems.push(`${name} must start with ${protocols.map((p) => p + '//').join(' or ')}, got ${parsed.protocol}//…`)
    }
    return v
  }

  /** A comma-separated list of host names or IP literals (IPv6 with or without brackets), lower-cased. */
  hostList(name: string): string[] {
    const v = this.string(name)
    if (v === undefined) return []
    const hosts = v
      .split(',')
      .map((h) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1'))
      .filter((h) => h !== '')
    for (const h of hosts) {
      if (!/^[a-z0-9.:_-]+$/.test(h)) this.problems.push(`${name} must list host names or IP addresses separated by commas, got "${h}"`)
    }
    return hosts
  }

  /** A shared secret: at least `minLength` characters, never echoed in a problem. */
  secret(name: string, minLength: number): string | undefined {
    const v = this.string(name)
    if (v !== undefined && v.length < minLength) this.problems.push(`${name} must be at least ${minLength} characters long (the value is not shown)`)
    return v
  }

  apiKey(name: string): string | undefined {
    const v = this.string(name)
    if (v === undefined) return undefined
    if (!/^sk-[A-Za-z0-9_-]{20,}$/.test(v)) {
      this.problems.push(`${name} must look like sk- followed by at least 20 letters, digits, _ or - (the value is not shown)`)
    }
    return v
  }
}

/** For entry points: the configuration, or a clear message on stderr and exit code 78 (EX_CONFIG). */
export function loadConfigOrExit(program: string): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${program}: ${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
}

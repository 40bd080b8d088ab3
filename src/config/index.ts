// The only module that reads the environment. Every setting is parsed and checked here, once,
// at start; a bad value stops the process with one clear line per problem.
import path from 'node:path'

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

  const s3Bucket = read.string('SKILLET_S3_BUCKET')
  const config: Config = {
    port: read.int('PORT', 8080, { min: 0, max: 65535 }),
    host: read.string('HOST') ?? '0.0.0.0',
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: path.resolve(read.string('SKILLET_DATA_DIR') ?? './data'),
    apiKey: read.apiKey('SKILLET_API_KEY'),
    s3: s3Bucket
      ? {
          bucket: s3Bucket,
          endpoint: read.url('SKILLET_S3_ENDPOINT', ['http:', 'https:']),
          region: read.string('SKILLET_S3_REGION') ?? env.AWS_REGION ?? 'us-east-1',
          forcePathStyle: read.bool('SKILLET_S3_FORCE_PATH_STYLE', false),
          prefix: read.string('SKILLET_S3_PREFIX') ?? '',
        }
      : undefined,
    logLevel: read.oneOf('SKILLET_LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    maxFileBytes: read.bytes('SKILLET_MAX_FILE_BYTES', 512 * 1000 * 1000),
    maxUploadBytes: read.bytes('SKILLET_MAX_UPLOAD_BYTES', 8 * 1000 * 1000 * 1000),
    maxUploadPartBytes: read.bytes('SKILLET_MAX_UPLOAD_PART_BYTES', 64 * 1000 * 1000),
    uploadTtlSeconds: read.int('SKILLET_UPLOAD_TTL_SECONDS', 3600, { min: 60 }),
    rateLimitPerMinute: read.int('SKILLET_RATE_LIMIT_PER_MINUTE', 600, { min: 1 }),
    maxJsonlLineBytes: read.bytes('SKILLET_MAX_JSONL_LINE_BYTES', 10 * 1000 * 1000),
    shutdownGraceMs: read.int('SKILLET_SHUTDOWN_GRACE_MS', 30_000, { min: 0 }),
  }
  if (!s3Bucket) {
    for (const name of ['SKILLET_S3_ENDPOINT', 'SKILLET_S3_PREFIX', 'SKILLET_S3_FORCE_PATH_STYLE']) {
      if (env[name]) problems.push(`${name} is set but SKILLET_S3_BUCKET is not: set the bucket to use S3`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
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

  apiKey(name: string): string | undefined {
    const v = this.string(name)
    if (v === undefined) return undefined
    if (!/^sk-[A-Za-z0-9_-]{20,}$/.test(v)) {
      this.problems.push(`${name} must look like sk- followed by at least 20 letters, digits, _ or - (the value is not shown)`)
    }
    return v
  }
}

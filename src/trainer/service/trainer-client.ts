// The trainer's side of the trainer protocol (docs/trainer-protocol.md): a small HTTP client for
// the API's /internal/v1/jobs/{id}/… endpoints. Transient failures (connection refused while the
// API restarts, 5xx, 429) are retried with exponential backoff and jitter; every report is
// idempotent on the API side, so a retry never duplicates anything. 401 (a newer attempt owns the
// job) and 409 (the job was cancelled, paused or finished) are final: the trainer should stop.
import type { TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'
import type { CheckpointReport, JobState, ReportedEvent, ReportedMetrics, StatusReport } from '../../protocol/trainer-reports.ts'

export class TrainerProtocolError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.name = 'TrainerProtocolError'
    this.status = status
  }
  /** The trainer should stop: its token is stale (401) or the job no longer runs (409). */
  get shouldStop(): boolean {
    return this.status === 401 || this.status === 409
  }
}

export interface RetryPolicy {
  /** Give up after this long in total (ms). Default 10 minutes: longer than an API restart. */
  maxElapsedMs: number
  initialDelayMs: number
  maxDelayMs: number
}

export interface TrainerClientOptions {
  callbackUrl: string
  jobId: string
  token: string
  retry?: Partial<RetryPolicy>
  fetch?: typeof fetch
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class TrainerClient {
  private readonly o: TrainerClientOptions
  private readonly retry: RetryPolicy

  constructor(options: TrainerClientOptions) {
    this.o = options
    this.retry = { maxElapsedMs: 10 * 60_000, initialDelayMs: 200, maxDelayMs: 10_000, ...options.retry }
  }

  /** Reads SKILLET_JOB_SPEC and SKILLET_JOB_TOKEN, as every launcher sets them. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, retry?: Partial<RetryPolicy>): { spec: TrainerJobSpec; client: TrainerClient } {
    const raw = env.SKILLET_JOB_SPEC
    const token = env.SKILLET_JOB_TOKEN
    if (!raw || !token) throw new Error('SKILLET_JOB_SPEC and SKILLET_JOB_TOKEN must be set')
    const spec = JSON.parse(raw) as TrainerJobSpec
    return { spec, client: new TrainerClient({ callbackUrl: spec.callbackUrl, jobId: spec.jobId, token, retry }) }
  }

  private url(path: string): string {
    return `${this.o.callbackUrl.replace(/\/$/, '')}/jobs/${encodeURIComponent(this.o.jobId)}${path}`
  }

  /** One request, retried on transient failures. Returns the successful response. */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    const started = Date.now()
    let delay = this.retry.initialDelayMs
    for (let attempt = 1; ; attempt++) {
      let failure: string
      try {
        const payload = body === undefined ? undefined : contentType === 'application/json' ? JSON.stringify(body) : (body as BodyInit)
        const res = await (this.o.fetch ?? fetch)(this.url(path), {
          method,
          headers: { authorization: `Bearer ${this.o.token}`, ...(payload !== undefined ? { 'content-type': contentType } : {}) },
          body: payload,
        })
        if (res.ok) return res
        const text = await res.text()
        if (res.status < 500 && res.status !== 429) throw new TrainerProtocolError(res.status, `${method} ${path}: ${res.status} ${text}`)
        failure = `${res.status} ${text}`
      } catch (err) {
        if (err instanceof TrainerProtocolError) throw err
        failure = (err as Error).message
      }
      if (Date.now() - started + delay > this.retry.maxElapsedMs) throw new Error(`${method} ${path} failed for ${Math.round((Date.now() - started) / 1000)}s, giving up: ${failure}`)
      await sleep(delay * (0.5 + Math.random())) // jitter: replicas of a fleet do not retry in lockstep
      delay = Math.min(this.retry.maxDelayMs, delay * 2)
    }
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T
  }

  state(): Promise<JobState> {
    return this.json('GET', '')
  }

  heartbeat(): Promise<JobState> {
    return this.json('POST', '/heartbeat')
  }

  /** Free-form events; `idempotency_key` must be stable across retries and attempts (e.g. "loaded-model"). */
  events(events: ReportedEvent[]): Promise<{ recorded: number }> {
    return this.json('POST', '/events', { events })
  }

  metrics(m: ReportedMetrics): Promise<{ recorded: number }> {
    return this.json('POST', '/metrics', m)
  }

  /** Registers a checkpoint whose files were uploaded under `blob_prefix` (see putBlob). */
  checkpoint(c: CheckpointReport): Promise<{ id: string; created: boolean }> {
    return this.json('POST', '/checkpoints', c)
  }

  status(report: StatusReport): Promise<JobState> {
    return this.json('POST', '/status', report)
  }

  /** Uploads bytes to `{output_prefix}{path}`; returns the full blob key. */
  async putBlob(path: string, bytes: Uint8Array): Promise<{ key: string; bytes: number }> {
    return (await (await this.request('PUT', `/blobs/${path}`, bytes, 'application/octet-stream')).json()) as { key: string; bytes: number }
  }

  async getBlob(path: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.request('GET', `/blobs/${path}`)).arrayBuffer())
  }

  async trainingFile(): Promise<string> {
    return (await this.request('GET', '/files/training')).text()
  }

  /**
   * Exits when the process that launched this trainer dies (SKILLET_PARENT_PID, set by the local
   * executor): an orphaned trainer would otherwise keep training a job nobody supervises.
   */
  static exitWithParent(env: NodeJS.ProcessEnv = process.env, everyMs = 500): void {
    const parent = Number(env.SKILLET_PARENT_PID)
    if (!parent) return
    const timer = setInterval(() => {
      if (process.ppid !== parent) process.exit(70)
    }, everyMs)
    timer.unref()
  }
}

// The scheduler loop, run by the worker process (or inside the embedded server). Each tick:
//   1. validates jobs whose files are ready (validating_files → queued),
//   2. reaps active jobs whose trainer stopped heartbeating (retry from checkpoint, or fail),
//   3. supervises the trainers this instance launched (crash → failed with the log tail; stopped
//      when their job was cancelled or paused),
//   4. polls the jobs it claimed whose start is still being prepared in the background (a base
//      model fetched from the Hugging Face Hub, possibly gigabytes): keeps their lease alive, reports
//      the download's progress as events, stops it when the job is cancelled or paused, and launches
//      the trainer (or fails the job) once it is done,
//   5. claims runnable jobs while the executor has room, and starts preparing them.
// No step waits for a download: a tick stays short whatever the fetch is doing.
// Every step is safe with several schedulers on one database: rows are claimed and locked with
// SKIP LOCKED, and all status changes go through the state machine.
import { randomBytes } from 'node:crypto'
import { and, eq, inArray } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Db } from '../../db/database.ts'
import { fineTuningJobs } from '../../db/schema/index.ts'
import type { ExecutionObservation, Executor } from '../executor/executor.ts'
import type { TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'
import { addEvents, applyAction, lockJob } from '../../jobs/job-store.ts'
import type { JobRow } from '../../jobs/job-object.ts'
import { jobsToValidate, validateJob, type TokenCountLookup } from '../../jobs/job-validation.ts'
import type { JobsConfig } from '../../config/index.ts'
import { unixNow } from '../../lib/ids.ts'
import { startLoop, type Loop } from '../../lib/loop.ts'
import { HubFetchError } from '../../models/hub-fetch.ts'
import type { BaseModelProgress } from '../../models/base-models.ts'
import { claimNextJob } from './claim.ts'
import { decide, type Decision } from './decide.ts'
import { buildJobSpec } from './trainer-job-spec.ts'
import { handleLostTrainer, reapLostJobs, reclaimAll } from './reaper.ts'

export interface SchedulerOptions {
  db: Db
  executor: Executor & { forget?(jobId: string): void }
  jobs: JobsConfig
  log: Logger
  /** Trainers this instance may run at once (the local executor's limit; Kubernetes: the global one). */
  capacity: number
  /** Base URL of the internal trainer endpoints. */
  callbackUrl: string
  /**
   * What the job trains: its base model's location, and the adapter it continues from (a job on an
   * `ft:` model). Runs in the background (it may fetch a Hub model); stops when `signal` aborts.
   */
  resolveModel: (job: JobRow, ctx: { signal: AbortSignal; onProgress: (progress: BaseModelProgress) => void }) => Promise<JobStart>
  /** Identifies this instance in lease_owner. */
  owner?: string
  /**
   * This is the only scheduler and its trainers die with it (embedded mode, local executor): every job
   * still running at start lost its trainer with the previous process, and is retried (or failed) at
   * once instead of after the heartbeat timeout.
   */
  reclaimAtStart?: boolean
  /** The training file's token count with the job's base model tokenizer (absent: characters / 4). */
  countTokens?: TokenCountLookup
  /** Told about every claim (metrics: queue wait). */
  onClaimed?: (job: JobRow) => void
}

type JobStart = Pick<TrainerJobSpec, 'model' | 'initAdapter'>

/** A claimed job whose start is being prepared (its base model resolved, maybe fetched) before its trainer launches. */
interface Preparation {
  job: JobRow
  token: string
  controller: AbortController
  outcome?: { ok: true; start: JobStart } | { ok: false; error: Error }
  progress?: BaseModelProgress
  /** The last progress step reported as an event (-1: none yet). */
  reportedStep: number
  /** When the lease (heartbeat_at) was last renewed. */
  renewedAt: number
}

const MB = 1_000_000
/** Without a known size, a progress event every this many bytes. */
const PROGRESS_EVENT_BYTES = 500 * MB

/** Which progress step `p` is in: tenths of the download, or every PROGRESS_EVENT_BYTES when the size is unknown. */
export function progressStep(p: { bytes: number; totalBytes: number | null }): number {
  return p.totalBytes ? Math.min(10, Math.floor((p.bytes * 10) / p.totalBytes)) : Math.floor(p.bytes / PROGRESS_EVENT_BYTES)
}

export function progressMessage(p: BaseModelProgress): string {
  const mb = (n: number) => (n / MB).toFixed(1)
  const of = p.totalBytes ? ` of ${mb(p.totalBytes)} MB (${Math.floor((p.bytes * 100) / p.totalBytes)}%)` : ' MB'
  return `Fetching base model ${p.repo} from the Hugging Face Hub: ${mb(p.bytes)}${of}`
}

export class Scheduler {
  readonly owner: string
  private readonly o: SchedulerOptions
  /** Jobs whose trainer this instance launched and still supervises. */
  private readonly launched = new Set<string>()
  /** Jobs this instance claimed whose trainer is not launched yet (their start is being prepared). */
  private readonly preparing = new Map<string, Preparation>()
  private loop: Loop | null = null
  private stopped = false
  private reclaimed = false

  constructor(options: SchedulerOptions) {
    this.o = options
    this.owner = options.owner ?? `scheduler-${process.pid}-${randomBytes(4).toString('hex')}`
  }

  start(): void {
    if (this.stopped || this.loop) return
    this.loop = startLoop({
      everyMs: this.o.jobs.schedulerIntervalMs,
      pass: () => this.tick(),
      onError: (err) => this.o.log.error({ err }, 'scheduler tick failed'),
    })
  }

  /** Runs a tick soon; ticks never overlap (a wake during a tick runs one more after it). */
  wake(): void {
    this.loop?.wake()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop?.stop()
    // A fetch in flight stops; its job keeps its lease until the heartbeat reaper retries it (the
    // retry resumes the download from the parts already stored).
    for (const prep of this.preparing.values()) prep.controller.abort(new Error('the scheduler stopped'))
    this.preparing.clear()
  }

  async tick(): Promise<void> {
    if (this.o.reclaimAtStart && !this.reclaimed) {
      const reclaimed = await reclaimAll(this.o.db, 'The server restarted and its trainer did not survive it', { heartbeatTimeoutSeconds: this.o.jobs.heartbeatTimeoutSeconds, maxAttempts: this.o.jobs.maxAttempts })
      this.reclaimed = true
      if (Object.keys(reclaimed).length > 0) this.o.log.warn({ reclaimed }, 'reclaimed jobs whose trainers died with the previous server')
    }
    for (const id of await jobsToValidate(this.o.db)) await validateJob({ db: this.o.db, jobs: this.o.jobs, countTokens: this.o.countTokens }, id)
    const reaped = await reapLostJobs(this.o.db, { heartbeatTimeoutSeconds: this.o.jobs.heartbeatTimeoutSeconds, maxAttempts: this.o.jobs.maxAttempts })
    if (Object.keys(reaped).length > 0) this.o.log.warn({ reaped }, 'reaped jobs with lost trainers')
    await this.supervise()
    await this.pollPreparing()
    while (!this.stopped && this.launched.size + this.preparing.size < this.o.capacity) {
      const claimed = await claimNextJob(this.o.db, this.owner, { maxRunning: this.o.jobs.maxRunningJobs, maxRunningPerProject: this.o.jobs.maxRunningJobsPerProject })
      if (!claimed) break
      this.o.onClaimed?.(claimed.job)
      this.prepare(claimed.job, claimed.token)
    }
  }

  /** Starts resolving a claimed job's model in the background; a later tick launches its trainer. */
  private prepare(job: JobRow, token: string): void {
    const prep: Preparation = { job, token, controller: new AbortController(), reportedStep: -1, renewedAt: unixNow() }
    this.preparing.set(job.id, prep)
    this.o
      .resolveModel(job, { signal: prep.controller.signal, onProgress: (p) => (prep.progress = p) })
      .then(
        (start) => (prep.outcome = { ok: true, start }),
        (error: Error) => (prep.outcome = { ok: false, error }),
      )
      .finally(() => this.wake())
  }

  /** Moves each job being prepared on: launched, failed, stopped — or still fetching, its lease renewed. */
  private async pollPreparing(): Promise<void> {
    for (const [jobId, prep] of [...this.preparing]) {
      const [row] = await this.o.db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, jobId))
      const ours = row && row.leaseOwner === this.owner && row.attempts === prep.job.attempts && (row.status === 'running' || row.status === 'pausing')
      if (!ours || row.status === 'pausing') {
        // Cancelled (or retried elsewhere): the download stops (unless another job waits for the same model).
        this.preparing.delete(jobId)
        prep.controller.abort(new Error(`the job is ${row?.status ?? 'gone'}`))
        if (ours) await this.pauseUnstarted(jobId, prep.job.attempts)
        continue
      }
      const log = this.o.log.child({ jobId, projectId: row.projectId })
      if (prep.progress) await this.reportProgress(row, prep, prep.progress)
      if (prep.outcome?.ok === false) {
        this.preparing.delete(jobId)
        const { error } = prep.outcome
        log.error({ err: error }, 'preparing the job failed')
        if (error instanceof HubFetchError) await this.failIfActive(jobId, 'model_fetch_failed', `The base model could not be fetched from the Hugging Face Hub: ${error.message}`, ['running'])
        else await this.failIfActive(jobId, 'launch_failed', `The trainer could not be started: ${error.message}`, ['running'])
      } else if (prep.outcome?.ok) {
        this.preparing.delete(jobId)
        await this.launch(row, prep.token, prep.outcome.start)
      } else if (unixNow() > prep.renewedAt) {
        // The job has no trainer to heartbeat yet: its lease is renewed here, so no reaper (ours or
        // another worker's) takes it for lost while the fetch goes on.
        prep.renewedAt = unixNow()
        await this.o.db
          .update(fineTuningJobs)
          .set({ heartbeatAt: prep.renewedAt })
          .where(and(eq(fineTuningJobs.id, jobId), eq(fineTuningJobs.leaseOwner, this.owner), eq(fineTuningJobs.attempts, prep.job.attempts), inArray(fineTuningJobs.status, ['running', 'pausing'])))
      }
    }
  }

  /** One event per tenth of the download (and one when it is done). */
  private async reportProgress(row: JobRow, prep: Preparation, p: BaseModelProgress): Promise<void> {
    const done = prep.outcome?.ok === true
    const step = done ? Number.MAX_SAFE_INTEGER : progressStep(p)
    if (step <= prep.reportedStep) return
    prep.reportedStep = step
    const message = done ? `Fetched base model ${p.repo} from the Hugging Face Hub (${(p.bytes / MB).toFixed(1)} MB)` : progressMessage(p)
    const data = { repo: p.repo, bytes: p.bytes, total_bytes: p.totalBytes }
    await addEvents(this.o.db, row.id, [{ message, data, idempotencyKey: `model-fetch:${row.attempts}:${done ? 'done' : step}` }])
  }

  /** A job paused while its model was still being fetched: paused at once (it has no trainer to stop). */
  private async pauseUnstarted(jobId: string, attempt: number): Promise<void> {
    await this.o.db.transaction(async (tx) => {
      const job = await lockJob(tx, jobId)
      if (job.status !== 'pausing' || job.attempts !== attempt) return
      await applyAction(tx, job, 'paused', { leaseOwner: null, trainerTokenHash: null, heartbeatAt: null, estimatedFinish: null }, [
        { message: 'Fine-tuning job paused before its trainer started', idempotencyKey: `paused:${attempt}` },
      ])
    })
  }

  private async launch(job: JobRow, token: string, start: JobStart): Promise<void> {
    this.launched.add(job.id)
    try {
      const spec = await buildJobSpec(this.o.db, job, start, this.o.callbackUrl)
      await this.o.executor.launch({ spec, token })
      this.o.log.info({ jobId: job.id, projectId: job.projectId, attempt: job.attempts, executor: this.o.executor.kind }, 'job launched')
    } catch (err) {
      this.launched.delete(job.id)
      const message = `The trainer could not be started: ${(err as Error).message}`
      this.o.log.error({ err, jobId: job.id, projectId: job.projectId }, 'launch failed')
      await this.failIfActive(job.id, 'launch_failed', message)
    }
  }

  /** Acts on what the executor knows about each trainer this instance launched. */
  private async supervise(): Promise<void> {
    for (const jobId of [...this.launched]) {
      const [row] = await this.o.db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, jobId))
      const ours = row && row.leaseOwner === this.owner && (row.status === 'running' || row.status === 'pausing')
      if (!ours) {
        // Cancelled, paused, finished, or retried elsewhere: make sure the trainer is gone.
        await this.o.executor.cancel(jobId)
        this.launched.delete(jobId)
        continue
      }
      const seen = await this.o.executor.observe(jobId)
      const decision = decide(row, seen, unixNow(), { source: 'launched' })
      if (decision.action === 'fail' || decision.action === 'retry') {
        this.launched.delete(jobId)
        this.o.executor.forget?.(jobId)
      }
      await this.act(row, seen, decision)
    }
  }

  /** Trainers this instance launched and still supervises. */
  get supervising(): number {
    return this.launched.size
  }

  /**
   * Acts on an observation the runtime pushed (the Kubernetes reconciler), for any job, whoever
   * launched it (see decide). Idempotent: every change re-checks the job under its row lock.
   */
  async observed(jobId: string, seen: ExecutionObservation): Promise<void> {
    const [row] = await this.o.db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, jobId))
    if (!row) return
    await this.act(row, seen, decide(row, seen, unixNow(), { source: 'pushed' }))
  }

  /** Carries out a decision about one job. */
  private async act(row: JobRow, seen: ExecutionObservation, decision: Decision): Promise<void> {
    const log = this.o.log.child({ jobId: row.id, projectId: row.projectId })
    switch (decision.action) {
      case 'none':
        return
      case 'stop_trainer':
        log.info({ status: row.status }, 'stopping a trainer whose job no longer runs')
        await this.o.executor.cancel(row.id)
        return
      case 'notice':
        if ((await addEvents(this.o.db, row.id, [{ level: 'warn', message: decision.message, idempotencyKey: decision.idempotencyKey }])) > 0) log.warn({ observation: seen }, 'trainer disrupted')
        return
      case 'fail':
        log.warn({ observation: seen }, 'trainer finished without reporting; settling the job')
        await this.failIfActive(row.id, decision.code, decision.message, ['running', 'pausing'])
        if (decision.stopTrainer) await this.o.executor.cancel(row.id)
        return
      case 'retry':
        log.warn({ observation: seen }, 'trainer finished without reporting; settling the job')
        await this.lose(row.id, decision.why, decision.exhaustedCode)
        return
    }
  }

  /** Fails the job if it is still in one of `statuses` (a queued one too for a failed launch). */
  private async failIfActive(jobId: string, code: string, message: string, statuses: readonly string[] = ['running', 'pausing', 'queued']): Promise<void> {
    await this.o.db.transaction(async (tx) => {
      const job = await lockJob(tx, jobId)
      if (!statuses.includes(job.status)) return
      await applyAction(tx, job, 'fail', { error: { code, message, param: null }, leaseOwner: null }, [{ level: 'error', message, idempotencyKey: 'failed' }])
    })
  }

  private async lose(jobId: string, why: string, exhaustedCode?: string): Promise<void> {
    await this.o.db.transaction(async (tx) => {
      const job = await lockJob(tx, jobId)
      if (job.status !== 'running' && job.status !== 'pausing') return
      await handleLostTrainer(tx, job, why, { heartbeatTimeoutSeconds: this.o.jobs.heartbeatTimeoutSeconds, maxAttempts: this.o.jobs.maxAttempts, exhaustedCode })
    })
  }
}

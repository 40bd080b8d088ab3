// The scheduler loop, run by the worker process (or inside the embedded server). Each tick:
//   1. validates jobs whose files are ready (validating_files → queued),
//   2. reaps active jobs whose trainer stopped heartbeating (retry from checkpoint, or fail),
//   3. supervises the trainers this instance launched (crash → failed with the log tail; stopped
//      when their job was cancelled or paused),
//   4. claims runnable jobs while the executor has room, and launches their trainers.
// Every step is safe with several schedulers on one database: rows are claimed and locked with
// SKIP LOCKED, and all status changes go through the state machine.
import { createHash, randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Db } from '../../db/database.ts'
import { fineTuningJobs } from '../../db/schema/index.ts'
import type { ExecutionObservation, Executor } from '../executor/executor.ts'
import type { TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'
import { addEvents, applyAction, lockJob } from '../../jobs/job-store.ts'
import type { JobRow } from '../../jobs/job-object.ts'
import { jobsToValidate, validateJob } from '../../jobs/job-validation.ts'
import type { JobsConfig } from '../../config/index.ts'
import { unixNow } from '../../lib/ids.ts'
import { claimNextJob } from './claim.ts'
import { jobErrorFor, leavesTrainerBehind, liveNotice, lostTrainerFor } from './execution-failure.ts'
import { buildJobSpec } from './trainer-job-spec.ts'
import { handleLostTrainer, reapLostJobs } from './reaper.ts'

export interface SchedulerOptions {
  db: Db
  executor: Executor & { forget?(jobId: string): void }
  jobs: JobsConfig
  log: Logger
  /** Trainers this instance may run at once (the local executor's limit; Kubernetes: the global one). */
  capacity: number
  /** Base URL of the internal trainer endpoints. */
  callbackUrl: string
  /** What the job trains: its base model's location, and the adapter it continues from (a job on an `ft:` model). */
  resolveModel: (job: JobRow) => Promise<Pick<TrainerJobSpec, 'model' | 'initAdapter'>>
  /** Identifies this instance in lease_owner. */
  owner?: string
  /** Told about every claim (metrics: queue wait). */
  onClaimed?: (job: JobRow) => void
}

/**
 * A trainer reported gone this soon after its attempt was claimed may simply not be created yet (another
 * replica is launching it), so it is left to the heartbeat reaper instead of being retried at once.
 */
export const LAUNCH_GRACE_SECONDS = 60

export class Scheduler {
  readonly owner: string
  private readonly o: SchedulerOptions
  /** Jobs whose trainer this instance launched and still supervises. */
  private readonly launched = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | null = null
  private again = false
  private stopped = false

  constructor(options: SchedulerOptions) {
    this.o = options
    this.owner = options.owner ?? `scheduler-${process.pid}-${randomBytes(4).toString('hex')}`
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.o.jobs.schedulerIntervalMs)
    this.timer.unref()
    this.wake()
  }

  /** Runs a tick soon; ticks never overlap (a wake during a tick runs one more after it). */
  wake(): void {
    if (this.stopped) return
    if (this.running) {
      this.again = true
      return
    }
    this.running = this.tick()
      .catch((err) => this.o.log.error({ err }, 'scheduler tick failed'))
      .finally(() => {
        this.running = null
        if (this.again) {
          this.again = false
          this.wake()
        }
      })
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
  }

  async tick(): Promise<void> {
    for (const id of await jobsToValidate(this.o.db)) await validateJob({ db: this.o.db, jobs: this.o.jobs }, id)
    const reaped = await reapLostJobs(this.o.db, { heartbeatTimeoutSeconds: this.o.jobs.heartbeatTimeoutSeconds, maxAttempts: this.o.jobs.maxAttempts })
    if (Object.keys(reaped).length > 0) this.o.log.warn({ reaped }, 'reaped jobs with lost trainers')
    await this.supervise()
    while (!this.stopped && this.launched.size < this.o.capacity) {
      const claimed = await claimNextJob(this.o.db, this.owner, { maxRunning: this.o.jobs.maxRunningJobs, maxRunningPerProject: this.o.jobs.maxRunningJobsPerProject })
      if (!claimed) break
      this.o.onClaimed?.(claimed.job)
      await this.launch(claimed.job, claimed.token)
    }
  }

  private async launch(job: JobRow, token: string): Promise<void> {
    this.launched.add(job.id)
    try {
      const start = await this.o.resolveModel(job)
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
      if (seen.phase === 'running' || seen.phase === 'pending') continue
      this.launched.delete(jobId)
      this.o.executor.forget?.(jobId)
      await this.settle(jobId, seen)
    }
  }

  /** Trainers this instance launched and still supervises. */
  get supervising(): number {
    return this.launched.size
  }

  /**
   * Acts on an observation the runtime pushed (the Kubernetes reconciler), for any job, whoever
   * launched it: a finished or vanished trainer settles its job; a trainer still alive for a job that
   * no longer wants one (cancelled, paused, finished) is stopped; a notable live change (an evicted pod
   * replaced) becomes an event. Idempotent: every change re-checks the job under its row lock.
   */
  async observed(jobId: string, seen: ExecutionObservation): Promise<void> {
    const [row] = await this.o.db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, jobId))
    if (!row) return
    const log = this.o.log.child({ jobId, projectId: row.projectId })
    const active = row.status === 'running' || row.status === 'pausing'
    if (seen.phase === 'running' || seen.phase === 'pending') {
      if (!active) {
        log.info({ status: row.status }, 'stopping a trainer whose job no longer runs')
        await this.o.executor.cancel(jobId)
        return
      }
      const notice = liveNotice(seen)
      if (notice) {
        const key = `runtime:${createHash('sha256').update(notice).digest('hex').slice(0, 16)}`
        if ((await addEvents(this.o.db, jobId, [{ level: 'warn', message: notice, idempotencyKey: key }])) > 0) log.warn({ observation: seen }, 'trainer disrupted')
      }
      return
    }
    if (!active) return
    if (seen.phase === 'gone' && unixNow() - (row.heartbeatAt ?? 0) < LAUNCH_GRACE_SECONDS) {
      log.debug('trainer not found yet; a launch may be in flight elsewhere')
      return
    }
    log.warn({ observation: seen }, 'trainer finished without reporting; settling the job')
    await this.settle(jobId, seen)
  }

  /** A trainer that ended without the job having ended: fail, or retry a vanished one. */
  private async settle(jobId: string, seen: ExecutionObservation): Promise<void> {
    const lost = lostTrainerFor(seen)
    if (lost) {
      await this.lose(jobId, lost.why, lost.exhaustedCode)
    } else if (seen.phase === 'failed') {
      const error = jobErrorFor(seen)
      await this.failIfActive(jobId, error.code, error.message, ['running', 'pausing'])
      if (leavesTrainerBehind(seen)) await this.o.executor.cancel(jobId)
    } else if (seen.phase === 'succeeded') {
      await this.failIfActive(jobId, 'trainer_failed', 'The trainer exited without reporting a result.', ['running', 'pausing'])
    } else {
      await this.lose(jobId, 'The trainer is gone (its process or pod no longer exists)')
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

// The scheduler loop, run by the worker process (or inside the embedded server). Each tick:
//   1. validates jobs whose files are ready (validating_files → queued),
//   2. reaps active jobs whose trainer stopped heartbeating (retry from checkpoint, or fail),
//   3. supervises the trainers this instance launched (crash → failed with the log tail; stopped
//      when their job was cancelled or paused),
//   4. claims runnable jobs while the executor has room, and launches their trainers.
// Every step is safe with several schedulers on one database: rows are claimed and locked with
// SKIP LOCKED, and all status changes go through the state machine.
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
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
  /** What the job trains: its base model's location, and the adapter it continues from (a job on an `ft:` model). */
  resolveModel: (job: JobRow) => Promise<Pick<TrainerJobSpec, 'model' | 'initAdapter'>>
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

export class Scheduler {
  readonly owner: string
  private readonly o: SchedulerOptions
  /** Jobs whose trainer this instance launched and still supervises. */
  private readonly launched = new Set<string>()
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

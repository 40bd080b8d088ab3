// Keeps the scheduler told about every Skillet-managed Job in the namespace. Watches (Jobs and their
// pods) say quickly that something changed; a periodic resync lists everything, so a dropped watch or
// a worker restart loses nothing. The callback hears each job only when its observation changes.
//
// It also sweeps orphans: Jobs and Secrets whose Skillet job is no longer active (finished, failed,
// cancelled while the worker was down) are deleted. Nothing here creates Jobs, so a new reconciler
// instance can never duplicate one; launches are idempotent by their derived names.
import { BatchV1Api, CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node'
import type { ExecutionObservation } from '../executor/executor.ts'
import { observeJob } from './observe-job.ts'
import { groupByJobId, jobIdOf, latestAttempt } from './job-listing.ts'
import { deleteJobObjects } from './delete-job-objects.ts'
import { MANAGED_SELECTOR, jobSelector } from './resource-names.ts'
import { startLoop, type Loop } from '../../lib/loop.ts'

export interface ReconcilerOptions {
  kubeConfig: KubeConfig
  namespace: string
  onChange: (jobId: string, observation: ExecutionObservation) => void | Promise<void>
  /** When given, every resync also deletes the objects of jobs that are no longer active. */
  isActive?: (jobId: string) => Promise<boolean>
  resyncIntervalMs?: number
  unschedulableTimeoutSeconds?: number
  /** Errors of background work (resync, watch); the reconciler keeps going. */
  onError?: (err: unknown) => void
  now?: () => Date
}

const WATCH_RETRY_MS = 1000

export class JobReconciler {
  private readonly options: Required<Omit<ReconcilerOptions, 'isActive'>> & Pick<ReconcilerOptions, 'isActive'>
  private readonly batch: BatchV1Api
  private readonly core: CoreV1Api
  private readonly watch: Watch
  /** The last observation delivered per job, as JSON, so an unchanged one is not delivered again. */
  private readonly delivered = new Map<string, string>()
  private readonly watches = new Set<AbortController>()
  private readonly refreshQueued = new Set<string>()
  /** All work runs one piece at a time, so an older reading never overtakes a newer one. */
  private queue: Promise<void> = Promise.resolve()
  private loop: Loop | null = null
  private closed = false

  constructor(options: ReconcilerOptions) {
    this.options = {
      resyncIntervalMs: 30_000,
      unschedulableTimeoutSeconds: 1800,
      onError: () => {},
      now: () => new Date(),
      ...options,
    }
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api)
    this.core = options.kubeConfig.makeApiClient(CoreV1Api)
    this.watch = new Watch(options.kubeConfig)
  }

  /** One full resync, then watches and the periodic resync. */
  async start(): Promise<void> {
    await this.resync()
    const ns = this.options.namespace
    this.startWatch(`/apis/batch/v1/namespaces/${ns}/jobs`)
    this.startWatch(`/api/v1/namespaces/${ns}/pods`)
    this.loop = startLoop({
      everyMs: this.options.resyncIntervalMs,
      immediate: false,
      pass: async () => {
        await this.resync()
        if (this.options.isActive) await this.sweepOrphans(this.options.isActive)
      },
      onError: this.options.onError,
    })
  }

  /** Lists every managed Job and pod and delivers each job's observation (if it changed). */
  resync(): Promise<void> {
    return this.serially(async () => {
      const { namespace } = this.options
      const [jobs, pods] = await Promise.all([
        this.batch.listNamespacedJob({ namespace, labelSelector: MANAGED_SELECTOR }),
        this.core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR }),
      ])
      const jobsById = groupByJobId(jobs.items)
      const podsById = groupByJobId(pods.items)
      for (const [jobId, attempts] of jobsById) {
        const latest = latestAttempt(attempts, podsById.get(jobId) ?? [])
        await this.deliver(jobId, observeJob(latest.job, latest.pods, this.options.now(), this.options))
      }
      // Jobs delivered before and missing now were deleted while no watch event reached us. A job
      // already reported gone is forgotten here, one resync later, so late pod events of a deleted
      // Job do not report it again.
      const gone = observeJob(undefined, [], this.options.now(), this.options)
      for (const [jobId, json] of [...this.delivered]) {
        if (jobsById.has(jobId)) continue
        if (json === JSON.stringify(gone)) this.delivered.delete(jobId)
        else await this.deliver(jobId, gone)
      }
    })
  }

  /**
   * Deletes the Jobs and Secrets of every job `isActive` says is over. Returns the job ids swept.
   * A Secret without a Job (a launch interrupted between the two) is swept the same way.
   */
  sweepOrphans(isActive: (jobId: string) => Promise<boolean>): Promise<string[]> {
    return this.serially(async () => {
      const { namespace } = this.options
      const [jobs, secrets] = await Promise.all([
        this.batch.listNamespacedJob({ namespace, labelSelector: MANAGED_SELECTOR }),
        this.core.listNamespacedSecret({ namespace, labelSelector: MANAGED_SELECTOR }),
      ])
      const jobIds = new Set([...groupByJobId(jobs.items).keys(), ...groupByJobId(secrets.items).keys()])
      const swept: string[] = []
      for (const jobId of jobIds) {
        if (await isActive(jobId)) continue
        await deleteJobObjects(this.batch, this.core, namespace, jobId)
        swept.push(jobId)
      }
      return swept
    })
  }

  async close(): Promise<void> {
    this.closed = true
    await this.loop?.stop()
    for (const c of this.watches) c.abort()
    this.watches.clear()
    await this.queue
  }

  private startWatch(path: string): void {
    if (this.closed) return
    let controller: AbortController | undefined
    const restart = (err: unknown) => {
      if (controller) this.watches.delete(controller)
      if (this.closed) return
      if (err) this.options.onError(err)
      // Whatever happened while the watch was down, the next resync sees; restarting soon keeps latency low.
      setTimeout(() => this.startWatch(path), WATCH_RETRY_MS).unref()
    }
    this.watch
      .watch(path, { labelSelector: MANAGED_SELECTOR }, (_type, object) => this.queueRefresh(jobIdOf(object)), restart)
      .then((c) => {
        controller = c
        if (this.closed) c.abort()
        else this.watches.add(c)
      })
      .catch(restart)
  }

  private queueRefresh(jobId: string | undefined): void {
    if (jobId === undefined || this.refreshQueued.has(jobId) || this.closed) return
    this.refreshQueued.add(jobId)
    this.serially(async () => {
      this.refreshQueued.delete(jobId)
      const { namespace } = this.options
      const labelSelector = jobSelector(jobId)
      const [jobs, pods] = await Promise.all([
        this.batch.listNamespacedJob({ namespace, labelSelector }),
        this.core.listNamespacedPod({ namespace, labelSelector }),
      ])
      const latest = latestAttempt(jobs.items, pods.items)
      await this.deliver(jobId, observeJob(latest.job, latest.pods, this.options.now(), this.options))
    }).catch(this.options.onError)
  }

  private async deliver(jobId: string, observation: ExecutionObservation): Promise<void> {
    const json = JSON.stringify(observation)
    if (this.delivered.get(jobId) === json) return
    // Recorded only once the callback succeeded, so a failed delivery is retried by the next resync.
    await this.options.onChange(jobId, observation)
    this.delivered.set(jobId, json)
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work)
    this.queue = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }
}

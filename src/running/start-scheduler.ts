// Wires a scheduler to the service: the executor (local child processes by default), base model
// resolution (with the one-time Hub fetch, which the scheduler runs off its tick), and the wake-up hook the API calls on new work.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Executor } from './executor/executor.ts'
import { LocalExecutor } from './local/local-executor.ts'
import { blobStoreEnv } from '../config/blob-store-env.ts'
import { resolveBaseModel } from '../models/base-models.ts'
import { jobStartingPoint } from '../models/job-starting-point.ts'
import { TokenCounts } from '../models/token-counts.ts'
import type { Database } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import type { Signal } from '../lib/signal.ts'
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.ts'

export interface RunningScheduler {
  scheduler: Scheduler
  executor: Executor
  stop(): Promise<void>
}

/** The default callback URL: this server on loopback. */
export function defaultCallbackUrl(config: Config, port: number): string {
  return config.jobs.callbackUrl ?? `http://127.0.0.1:${port}/internal/v1`
}

export function startScheduler(
  services: { config: Config; database: Pick<Database, 'db'>; blobs: BlobStore; jobWork: Signal },
  opts: {
    log: Logger
    callbackUrl: string
    executor?: Executor & { forget?(jobId: string): void }
    capacity?: number
    onClaimed?: SchedulerOptions['onClaimed']
    reclaimAtStart?: SchedulerOptions['reclaimAtStart']
  },
): RunningScheduler {
  const { config } = services
  const executor = opts.executor ?? new LocalExecutor({ command: config.jobs.trainerCommand, maxConcurrent: config.jobs.localMaxTrainers, warmTrainers: config.jobs.warmTrainers, log: opts.log, env: blobStoreEnv(config), blobStore: config.s3 ? 's3' : 'fs' })
  const capacity = opts.capacity ?? (executor instanceof LocalExecutor ? executor.capacity : config.jobs.maxRunningJobs)
  // Counted in the background; a finished count wakes the scheduler to validate the job waiting for it.
  const tokenCounts = new TokenCounts({ db: services.database.db, blobs: services.blobs, baseModels: config.jobs.baseModels, log: opts.log.child({ component: 'token-counts' }), onCounted: () => scheduler.wake() })
  const scheduler: Scheduler = new Scheduler({
    db: services.database.db,
    executor,
    jobs: config.jobs,
    log: opts.log.child({ component: 'scheduler' }),
    capacity,
    callbackUrl: opts.callbackUrl,
    onClaimed: opts.onClaimed,
    countTokens: tokenCounts.lookup,
    reclaimAtStart: opts.reclaimAtStart,
    resolveModel: async (job, { signal, onProgress }) => {
      // Checked again at launch: the model a job continues from may have been deleted since.
      const start = await jobStartingPoint({ db: services.database.db, baseModels: config.jobs.baseModels }, job.projectId, job.model, job.method.type)
      const model = await resolveBaseModel({ db: services.database.db, blobs: services.blobs, baseModels: config.jobs.baseModels, hubEndpoint: config.jobs.hubEndpoint, hubToken: config.jobs.hubToken }, start.baseModel, { signal, onProgress })
      return { model, initAdapter: start.initAdapter }
    },
  })
  const unsubscribe = services.jobWork.subscribe(() => scheduler.wake())
  scheduler.start()
  return {
    scheduler,
    executor,
    async stop() {
      unsubscribe()
      tokenCounts.close()
      await scheduler.stop()
      await executor.close()
    },
  }
}

// Keeps the job table in step with the trainer Jobs on the cluster, whichever worker launched them:
//   - the reconciler's observations (watch + periodic resync) go to the scheduler's observation path,
//     which fails, retries or stops trainers exactly as for the scheduler's own polling;
//   - at start, every running job is observed once: a Job deleted while no worker ran is never
//     reported gone by a reconciler that never saw it;
//   - every resync also sweeps the Jobs and Secrets of jobs that are over (cancelled while nobody
//     watched, finished, failed with a Job left behind such as an image pull failure).
import { eq } from 'drizzle-orm'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Db } from '../../db/database.ts'
import { fineTuningJobs } from '../../db/schema/index.ts'
import { JobReconciler } from './reconciler.ts'
import type { KubernetesExecutor } from './kubernetes-executor.ts'
import type { Scheduler } from '../scheduler/scheduler.ts'
import { sql } from 'drizzle-orm'
import type { WatchedExecutor } from './watched-executor.ts'
import { sleep } from '../../lib/loop.ts'

export interface KubernetesSupervisionOptions {
  db: Db
  log: Logger
  kubeConfig: KubeConfig
  kubernetes: KubernetesExecutor
  executor: WatchedExecutor
  scheduler: Scheduler
  resyncIntervalMs: number
}

/** Delay before a failed first resync (API server unreachable, RBAC missing) is tried again. */
const START_RETRY_MS = 5000

export interface KubernetesSupervision {
  /** Resolves once the first resync and the start-up observation are done. */
  ready: Promise<void>
  close(): Promise<void>
}

export function startKubernetesSupervision(o: KubernetesSupervisionOptions): KubernetesSupervision {
  const log = o.log.child({ component: 'reconciler' })
  const reconciler = new JobReconciler({
    kubeConfig: o.kubeConfig,
    namespace: o.kubernetes.config.namespace,
    resyncIntervalMs: o.resyncIntervalMs,
    unschedulableTimeoutSeconds: o.kubernetes.config.unschedulableTimeoutSeconds,
    onChange: async (jobId, observation) => {
      log.debug({ jobId, observation }, 'trainer Job changed')
      o.executor.record(jobId, observation)
      await o.scheduler.observed(jobId, observation)
      o.scheduler.wake()
    },
    isActive: (jobId) => isActive(o.db, jobId),
    onError: (err) => log.warn({ err }, 'reconciler: Kubernetes request failed; the next resync retries'),
  })

  const closing = new AbortController()
  const ready = (async () => {
    for (;;) {
      try {
        await reconciler.start()
        break
      } catch (err) {
        if (closing.signal.aborted) return
        log.error({ err, retryInMs: START_RETRY_MS }, 'cannot list trainer Jobs; is the Kubernetes API reachable and the RBAC Role installed?')
        if (!(await sleep(START_RETRY_MS, closing.signal))) return
      }
    }
    await observeRunningJobs(o, log)
  })().catch((err) => log.error({ err }, 'start-up observation of running jobs failed; the heartbeat reaper covers them'))

  return {
    ready,
    async close() {
      closing.abort()
      await reconciler.close()
    },
  }
}

/** Running (or pausing) jobs, whoever launched them, observed once on the cluster itself. */
async function observeRunningJobs(o: KubernetesSupervisionOptions, log: Logger): Promise<void> {
  const running = await o.db
    .select({ id: fineTuningJobs.id, projectId: fineTuningJobs.projectId })
    .from(fineTuningJobs)
    .where(sql`${fineTuningJobs.status} in ('running', 'pausing')`)
  for (const job of running) {
    const observation = await o.executor.observeNow(job.id)
    log.info({ jobId: job.id, projectId: job.projectId, observation }, 'running job observed at start')
    await o.scheduler.observed(job.id, observation)
  }
}

/**
 * Whether a job's Kubernetes objects must stay. A job id this database does not know is kept: it may
 * belong to another Skillet installation sharing the namespace, and its own trainer stops once its
 * token is refused.
 */
async function isActive(db: Db, jobId: string): Promise<boolean> {
  const [row] = await db.select({ status: fineTuningJobs.status }).from(fineTuningJobs).where(eq(fineTuningJobs.id, jobId))
  return !row || row.status === 'running' || row.status === 'pausing'
}

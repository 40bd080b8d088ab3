// Everything that runs besides answering requests, started the same way by the embedded server
// (src/server.ts) and by the worker process (src/worker.ts):
//   - the job scheduler, with the executor the configuration chooses (local child processes, or
//     Kubernetes Jobs — then also the reconciler, start-up observation and orphan sweep);
//   - the webhook dispatcher;
//   - maintenance (expired files and uploads, unreferenced blobs).
// stop() ends them in the reverse order and waits for work in flight.
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { unixNow } from './lib/ids.ts'
import type { SkilletMetrics } from './metrics/skillet-metrics.ts'
import { startScheduler, type RunningScheduler } from './running/start-scheduler.ts'
import type { AppServices } from './services/app-services.ts'
import { startMaintenance } from './services/maintenance.ts'
import { startWebhookDispatcher, type WebhookDispatcher } from './webhooks/dispatcher.ts'
import type { KubernetesSupervision } from './running/kubernetes/kubernetes-supervision.ts'

export interface BackgroundOptions {
  log: Logger
  /** Base URL of the internal trainer endpoints, as trainers reach it. */
  callbackUrl: string
  metrics?: SkilletMetrics
  /** Credentials for the cluster; by default from config (KUBECONFIG), in-cluster, or ~/.kube/config. */
  kubeConfig?: KubeConfig
  /** Maintenance period; tests shorten it. */
  maintenanceEveryMs?: number
}

export interface Background {
  running: RunningScheduler
  dispatcher: WebhookDispatcher
  /** Present with the Kubernetes executor; `ready` resolves after the first resync. */
  kubernetes: KubernetesSupervision | null
  stop(): Promise<void>
}

export async function startBackground(services: AppServices, opts: BackgroundOptions): Promise<Background> {
  const { config, database } = services
  const log = opts.log
  const { metrics } = opts

  // Local: startScheduler's default executor (child processes with the blob store's environment).
  // Kubernetes: its module (and the client library) is loaded only when chosen.
  const kubernetes = config.executor.kind === 'kubernetes'
    ? (await import('./running/kubernetes/kubernetes-backend.ts')).kubernetesBackend(config.executor, log, opts.kubeConfig)
    : null
  const executor = kubernetes?.executor

  const running = startScheduler(services, {
    log,
    callbackUrl: opts.callbackUrl,
    executor,
    onClaimed: (job) => metrics?.queueWait.observe(Math.max(0, unixNow() - job.runAfter)),
    // Embedded (PGlite: one process holds the data dir) with local trainers: a job still running at
    // start had its trainer in this server's previous life, which took it along (SKILLET_PARENT_PID).
    reclaimAtStart: database.driver === 'pglite' && !executor,
  })
  metrics?.watchDatabase(database.db)
  metrics?.watchTrainers(() => running.scheduler.supervising)

  const supervision = kubernetes?.supervise({ db: database.db, log, scheduler: running.scheduler }) ?? null

  const dispatcher = startWebhookDispatcher({
    db: database.db,
    log: log.child({ component: 'webhooks' }),
    ...config.webhooks,
    onAttempt: ({ outcome, secondsSinceEvent }) => {
      metrics?.webhookAttempts.inc({ outcome })
      if (outcome === 'delivered') metrics?.webhookDeliveryLag.observe(Math.max(0, secondsSinceEvent))
    },
  })
  const maintenance = startMaintenance(services, log.child({ component: 'maintenance' }), opts.maintenanceEveryMs)

  return {
    running,
    dispatcher,
    kubernetes: supervision,
    async stop() {
      await maintenance.stop()
      await dispatcher.stop()
      await supervision?.close()
      await running.stop()
    },
  }
}

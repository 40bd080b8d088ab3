// Everything that runs besides answering requests, started the same way by the embedded server
// (src/server.ts) and by the worker process (src/worker.ts):
//   - the job scheduler, with the executor the configuration chooses (local child processes, or
//     Kubernetes Jobs — then also the reconciler, start-up observation and orphan sweep);
//   - the webhook dispatcher;
//   - maintenance (expired files and uploads, unreferenced blobs).
// stop() ends them in the reverse order and waits for work in flight.
import { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { KubernetesConfig } from './config/index.ts'
import type { Executor } from './running/executor/executor.ts'
import { KubernetesExecutor } from './running/kubernetes/kubernetes-executor.ts'
import { unixNow } from './lib/ids.ts'
import type { SkilletMetrics } from './metrics/skillet-metrics.ts'
import { startScheduler, type RunningScheduler } from './running/start-scheduler.ts'
import type { AppServices } from './services/app-services.ts'
import { startMaintenance } from './services/maintenance.ts'
import { startWebhookDispatcher, type WebhookDispatcher } from './webhooks/dispatcher.ts'
import { startKubernetesSupervision, type KubernetesSupervision } from './running/kubernetes/kubernetes-supervision.ts'
import { WatchedExecutor } from './running/kubernetes/watched-executor.ts'

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

export function startBackground(services: AppServices, opts: BackgroundOptions): Background {
  const { config, database } = services
  const log = opts.log
  const { metrics } = opts

  let kubernetes: { executor: WatchedExecutor; inner: KubernetesExecutor; kubeConfig: KubeConfig; settings: KubernetesConfig } | null = null
  // Local: startScheduler's default executor (child processes with the blob store's environment).
  let executor: (Executor & { forget?(jobId: string): void }) | undefined
  if (config.executor.kind === 'kubernetes') {
    const kubeConfig = opts.kubeConfig ?? loadKubeConfig(config.executor.kubeconfigPath)
    const inner = new KubernetesExecutor({ kubeConfig, config: config.executor.executor })
    executor = new WatchedExecutor(inner)
    kubernetes = { executor: executor as WatchedExecutor, inner, kubeConfig, settings: config.executor }
    log.info({ namespace: inner.config.namespace, image: inner.config.image, server: kubeConfig.getCurrentCluster()?.server }, 'trainers run as Kubernetes Jobs')
  }

  const running = startScheduler(services, {
    log,
    callbackUrl: opts.callbackUrl,
    executor,
    onClaimed: (job) => metrics?.queueWait.observe(Math.max(0, unixNow() - job.runAfter)),
  })
  metrics?.watchDatabase(database.db)
  metrics?.watchTrainers(() => running.scheduler.supervising)

  const supervision = kubernetes
    ? startKubernetesSupervision({
        db: database.db,
        log,
        kubeConfig: kubernetes.kubeConfig,
        kubernetes: kubernetes.inner,
        executor: kubernetes.executor,
        scheduler: running.scheduler,
        resyncIntervalMs: kubernetes.settings.resyncIntervalMs,
      })
    : null

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

/** A kubeconfig file when one is named, else in-cluster credentials or ~/.kube/config (the client's defaults). */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig()
  if (path) kc.loadFromFile(path)
  else kc.loadFromDefault()
  return kc
}

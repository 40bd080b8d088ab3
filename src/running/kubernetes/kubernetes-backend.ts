// The Kubernetes side of the background work in one module, which src/background.ts imports only
// when the configuration chooses the kubernetes executor: @kubernetes/client-node takes about 0.7 s
// of CPU to load, which a server or worker running trainers as local child processes never pays.
import { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { KubernetesConfig } from '../../config/index.ts'
import type { Db } from '../../db/database.ts'
import type { Scheduler } from '../scheduler/scheduler.ts'
import { KubernetesExecutor } from './kubernetes-executor.ts'
import { startKubernetesSupervision, type KubernetesSupervision } from './kubernetes-supervision.ts'
import { WatchedExecutor } from './watched-executor.ts'

export interface KubernetesBackend {
  /** The scheduler's executor: one Job per attempt, observed through the reconciler. */
  executor: WatchedExecutor
  /** Starts the reconciler, the start-up observation and the orphan sweep. */
  supervise(deps: { db: Db; log: Logger; scheduler: Scheduler }): KubernetesSupervision
}

/** `kubeConfig` overrides the credentials (tests); by default KUBECONFIG, in-cluster, or ~/.kube/config. */
export function kubernetesBackend(settings: KubernetesConfig, log: Logger, kubeConfig?: KubeConfig): KubernetesBackend {
  const kc = kubeConfig ?? loadKubeConfig(settings.kubeconfigPath)
  const inner = new KubernetesExecutor({ kubeConfig: kc, config: settings.executor })
  const executor = new WatchedExecutor(inner)
  log.info({ namespace: inner.config.namespace, image: inner.config.image, server: kc.getCurrentCluster()?.server }, 'trainers run as Kubernetes Jobs')
  return {
    executor,
    supervise: ({ db, log: supervisionLog, scheduler }) => startKubernetesSupervision({
      db,
      log: supervisionLog,
      kubeConfig: kc,
      kubernetes: inner,
      executor,
      scheduler,
      resyncIntervalMs: settings.resyncIntervalMs,
    }),
  }
}

/** A kubeconfig file when one is named, else in-cluster credentials or ~/.kube/config (the client's defaults). */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig()
  if (path) kc.loadFromFile(path)
  else kc.loadFromDefault()
  return kc
}

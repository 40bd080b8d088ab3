// Runs trainers as Kubernetes Jobs. Thin I/O around the pure builders (job-manifest, secret-manifest)
// and the pure observer (observe-job): everything decided here is about talking to the API server.
import {
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Job,
  type V1Secret,
} from '@kubernetes/client-node'
import type { ExecutionObservation, Executor, LaunchRequest } from '../executor/executor.ts'
import { buildTrainerJob } from './job-manifest.ts'
import { buildJobSecret, jobOwnerReference } from './secret-manifest.ts'
import { observeJob } from './observe-job.ts'
import { latestAttempt } from './job-listing.ts'
import { KubernetesApiError, isAlreadyExists } from './kube-errors.ts'
import { deleteJobObjects } from './delete-job-objects.ts'
import {
  resolveKubernetesExecutorConfig,
  type KubernetesExecutorConfig,
  type ResolvedKubernetesExecutorConfig,
} from '../../config/kubernetes-executor-config.ts'
import { LABEL_ATTEMPT, LABEL_JOB_ID, LABEL_MANAGED_BY, MANAGED_BY_VALUE, jobSelector } from './resource-names.ts'

export interface KubernetesExecutorOptions {
  kubeConfig: KubeConfig
  config: KubernetesExecutorConfig
  /** The clock the unschedulable timeout is measured with. */
  now?: () => Date
}

export class KubernetesExecutor implements Executor {
  readonly kind = 'kubernetes' as const
  readonly config: ResolvedKubernetesExecutorConfig
  private readonly batch: BatchV1Api
  private readonly core: CoreV1Api
  private readonly now: () => Date

  constructor(options: KubernetesExecutorOptions) {
    this.config = resolveKubernetesExecutorConfig(options.config)
    this.batch = options.kubeConfig.makeApiClient(BatchV1Api)
    this.core = options.kubeConfig.makeApiClient(CoreV1Api)
    this.now = options.now ?? (() => new Date())
  }

  /**
   * Secret first (the Job's pod needs it to start), then the Job, then the Secret is handed to the
   * Job as owner. Every step tolerates having been done before, so a launch interrupted anywhere
   * (a crash, a restart) is finished by launching again.
   */
  async launch(req: LaunchRequest): Promise<void> {
    const namespace = this.config.namespace
    const secret = buildJobSecret(req, namespace)
    const job = buildTrainerJob(req.spec, this.config)
    const name = job.metadata!.name!
    const owned = { jobId: req.spec.jobId, attempt: req.spec.attempt }

    await createUnlessOurs(
      `creating Secret ${namespace}/${name}`,
      () => this.core.createNamespacedSecret({ namespace, body: secret }),
      () => this.core.readNamespacedSecret({ name, namespace }),
      owned,
    )
    const created = await createUnlessOurs(
      `creating Job ${namespace}/${name}`,
      () => this.batch.createNamespacedJob({ namespace, body: job }),
      () => this.batch.readNamespacedJob({ name, namespace }),
      owned,
    )
    await this.core
      .patchNamespacedSecret(
        { name, namespace, body: { metadata: { ownerReferences: [jobOwnerReference(name, created.metadata!.uid!)] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch((err: unknown) => {
        throw new KubernetesApiError(`handing Secret ${namespace}/${name} to its Job`, err)
      })
  }

  /** Deletes every attempt's Job (and, with Background propagation, its pods) and Secret. */
  async cancel(jobId: string): Promise<void> {
    await deleteJobObjects(this.batch, this.core, this.config.namespace, jobId)
  }

  async observe(jobId: string): Promise<ExecutionObservation> {
    const namespace = this.config.namespace
    const labelSelector = jobSelector(jobId)
    const [jobs, pods] = await Promise.all([
      this.batch.listNamespacedJob({ namespace, labelSelector }),
      this.core.listNamespacedPod({ namespace, labelSelector }),
    ])
    const latest = latestAttempt(jobs.items, pods.items)
    return observeJob(latest.job, latest.pods, this.now(), this.config)
  }

  async close(): Promise<void> {
    // Nothing is held open: every call is a plain request.
  }
}

/**
 * Creates an object; if one of that name exists already it is accepted only when its labels say it
 * is this very job attempt (an earlier launch of it), and returned instead.
 */
async function createUnlessOurs<T extends V1Job | V1Secret>(
  action: string,
  create: () => Promise<T>,
  read: () => Promise<T>,
  owned: { jobId: string; attempt: number },
): Promise<T> {
  try {
    return await create()
  } catch (err) {
    if (!isAlreadyExists(err)) throw new KubernetesApiError(action, err)
  }
  const existing = await read()
  const labels = existing.metadata?.labels ?? {}
  const ours =
    labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE &&
    labels[LABEL_JOB_ID] === owned.jobId &&
    labels[LABEL_ATTEMPT] === String(owned.attempt)
  if (!ours) {
    throw new Error(
      `${existing.kind ?? 'object'} ${existing.metadata?.namespace}/${existing.metadata?.name} already exists and does not belong to ` +
        `job ${owned.jobId} attempt ${owned.attempt} (labels: ${JSON.stringify(labels)}); refusing to adopt it`,
    )
  }
  return existing
}

// How trainer Jobs are shaped on a cluster. A plain object: whoever starts the worker fills it (from
// Helm values via the environment); the launcher never reads the environment itself.
import type { V1Affinity, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node'

/** The trainer entrypoint inside the trainer image (trainer-image/Dockerfile runs the same file). */
export const DEFAULT_TRAINER_COMMAND: readonly string[] = ['node', 'src/cli/trainer.ts']

/** The exit code the trainer uses for input it can never train on; the Job fails at once on it. */
export const DEFAULT_BAD_INPUT_EXIT_CODE = 2

export interface ResourceAmounts {
  cpu?: string
  memory?: string
}

export interface KubernetesExecutorConfig {
  /** Namespace the trainer Jobs, pods and per-job Secrets live in. */
  namespace: string
  image: string
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'
  imagePullSecrets?: string[]
  command?: string[]
  args?: string[]
  /** GPUs per trainer pod; 0 runs on CPU. */
  gpuCount?: number
  /** Extended resource name the device plugin advertises. */
  gpuResourceName?: string
  requests?: ResourceAmounts
  limits?: ResourceAmounts
  nodeSelector?: Record<string, string>
  tolerations?: V1Toleration[]
  affinity?: V1Affinity
  priorityClassName?: string
  /** Kueue LocalQueue; when set the Job is created suspended and Kueue admits it. */
  kueueQueueName?: string
  /** Kueue WorkloadPriorityClass. */
  kueuePriorityClass?: string
  /** Pod failures (other than disruptions, which are ignored) Kubernetes retries before failing the Job. */
  backoffLimit?: number
  activeDeadlineSeconds?: number
  ttlSecondsAfterFinished?: number
  /** Size of the in-memory /dev/shm. */
  shmSize?: string
  /** Size limit of the writable /tmp scratch volume. */
  scratchSize?: string
  /** PersistentVolumeClaim for the CUDA kernel cache; an emptyDir when absent. */
  cudaCacheClaimName?: string
  /** Existing Secret whose keys (SKILLET_S3_BUCKET, AWS_ACCESS_KEY_ID, ...) become the trainer's environment. */
  s3SecretName?: string
  serviceAccountName?: string
  /** How long a pod may stay unschedulable before the attempt counts as failed. */
  unschedulableTimeoutSeconds?: number
  badInputExitCode?: number
  /** Non-root uid/gid the trainer runs as; matches the user in trainer-image/Dockerfile. */
  runAsUser?: number
  extraEnv?: Record<string, string>
  extraVolumes?: V1Volume[]
  extraVolumeMounts?: V1VolumeMount[]
}

export type ResolvedKubernetesExecutorConfig = KubernetesExecutorConfig &
  Required<
    Pick<
      KubernetesExecutorConfig,
      | 'imagePullPolicy'
      | 'command'
      | 'args'
      | 'gpuCount'
      | 'gpuResourceName'
      | 'backoffLimit'
      | 'ttlSecondsAfterFinished'
      | 'shmSize'
      | 'scratchSize'
      | 'unschedulableTimeoutSeconds'
      | 'badInputExitCode'
      | 'runAsUser'
    >
  >

export function resolveKubernetesExecutorConfig(config: KubernetesExecutorConfig): ResolvedKubernetesExecutorConfig {
  if (!config.namespace) throw new Error('kubernetes executor: namespace is required')
  if (!config.image) throw new Error('kubernetes executor: image is required')
  const defaults = {
    imagePullPolicy: 'IfNotPresent',
    command: [...DEFAULT_TRAINER_COMMAND],
    args: [],
    gpuCount: 1,
    gpuResourceName: 'nvidia.com/gpu',
    // Skillet retries attempts itself (resuming from the latest checkpoint), so Kubernetes does not
    // retry crashes by default; disruptions are retried by the pod failure policy regardless.
    backoffLimit: 0,
    ttlSecondsAfterFinished: 3600,
    shmSize: '8Gi',
    scratchSize: '50Gi',
    unschedulableTimeoutSeconds: 1800,
    badInputExitCode: DEFAULT_BAD_INPUT_EXIT_CODE,
    runAsUser: 10001,
  } as const
  // withoutUndefined: an explicit `undefined` in the input must not erase a default.
  return { ...defaults, ...withoutUndefined(config) } as ResolvedKubernetesExecutorConfig
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

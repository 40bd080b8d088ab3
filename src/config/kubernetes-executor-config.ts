// How trainer Jobs are shaped on a cluster. A plain object: whoever starts the worker fills it (from
// Helm values via the environment); the launcher never reads the environment itself.
import type { V1Affinity, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import { Type, type Static } from 'typebox'

/** The trainer entrypoint inside the trainer image (trainer-image/Dockerfile runs the same file). */
export const DEFAULT_TRAINER_COMMAND: readonly string[] = ['node', 'src/cli/trainer.ts']

/** The exit code the trainer uses for input it can never train on; the Job fails at once on it. */
export const DEFAULT_BAD_INPUT_EXIT_CODE = 2

/** A Kubernetes resource quantity: 4, 500m, 24Gi, 1.5G, 1e3. */
const Quantity = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?([eE][0-9]+|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$' })
const DnsLabel = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' })
const DnsSubdomain = Type.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' })
const Resources = Type.Object({ cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) }, { additionalProperties: false })
const Toleration = Type.Object(
  {
    key: Type.Optional(Type.String()),
    operator: Type.Optional(Type.Enum(['Exists', 'Equal'])),
    value: Type.Optional(Type.String()),
    effect: Type.Optional(Type.Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute', ''])),
    tolerationSeconds: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
)
/** Passed through to the pod spec as written; the API server validates their insides. */
const KubeObject = Type.Record(Type.String(), Type.Unknown())
/** Typed as the client's own objects; the schema only says they are objects. */
const kubeObject = <T>() => Type.Unsafe<T>(KubeObject)

/** How trainer Jobs are shaped; every field but namespace and image has a default (resolveKubernetesExecutorConfig). */
export const KubernetesExecutorConfigSchema = Type.Object(
  {
    /** Namespace the trainer Jobs, pods and per-job Secrets live in. */
    namespace: DnsLabel,
    image: Type.String({ minLength: 1 }),
    imagePullPolicy: Type.Optional(Type.Enum(['Always', 'IfNotPresent', 'Never'])),
    imagePullSecrets: Type.Optional(Type.Array(DnsSubdomain)),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    args: Type.Optional(Type.Array(Type.String())),
    /** GPUs per trainer pod; 0 runs on CPU. */
    gpuCount: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Extended resource name the device plugin advertises. */
    gpuResourceName: Type.Optional(Type.String({ minLength: 1 })),
    requests: Type.Optional(Resources),
    limits: Type.Optional(Resources),
    nodeSelector: Type.Optional(Type.Record(Type.String(), Type.String())),
    tolerations: Type.Optional(Type.Array(Toleration)),
    affinity: Type.Optional(kubeObject<V1Affinity>()),
    priorityClassName: Type.Optional(Type.String()),
    /** Kueue LocalQueue; when set the Job is created suspended and Kueue admits it. */
    kueueQueueName: Type.Optional(DnsSubdomain),
    /** Kueue WorkloadPriorityClass. */
    kueuePriorityClass: Type.Optional(DnsSubdomain),
    /** Pod failures (other than disruptions, which are ignored) Kubernetes retries before failing the Job. */
    backoffLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    activeDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    ttlSecondsAfterFinished: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Size of the in-memory /dev/shm. */
    shmSize: Type.Optional(Quantity),
    /** Size limit of the writable /tmp scratch volume. */
    scratchSize: Type.Optional(Quantity),
    /** PersistentVolumeClaim for the CUDA kernel cache; an emptyDir when absent. */
    cudaCacheClaimName: Type.Optional(DnsSubdomain),
    /** Existing Secret whose keys (SKILLET_S3_BUCKET, AWS_ACCESS_KEY_ID, ...) become the trainer's environment. */
    s3SecretName: Type.Optional(DnsSubdomain),
    serviceAccountName: Type.Optional(DnsSubdomain),
    /** How long a pod may stay unschedulable before the attempt counts as failed. */
    unschedulableTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    badInputExitCode: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
    /** Non-root uid/gid the trainer runs as; matches the user in trainer-image/Dockerfile. */
    runAsUser: Type.Optional(Type.Integer({ minimum: 1 })),
    extraEnv: Type.Optional(Type.Record(Type.String(), Type.String())),
    extraVolumes: Type.Optional(Type.Array(kubeObject<V1Volume>())),
    extraVolumeMounts: Type.Optional(Type.Array(kubeObject<V1VolumeMount>())),
  },
  { additionalProperties: false },
)

export type KubernetesExecutorConfig = Static<typeof KubernetesExecutorConfigSchema>

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
    /** GPUs per trainer pod; 0 runs on CPU. */
    gpuCount: 1,
    /** Extended resource name the device plugin advertises. */
    gpuResourceName: 'nvidia.com/gpu',
    // Skillet retries attempts itself (resuming from the latest checkpoint), so Kubernetes does not
    // retry crashes by default; disruptions are retried by the pod failure policy regardless.
    /** Pod failures (other than disruptions, which are ignored) Kubernetes retries before failing the Job. */
    backoffLimit: 0,
    ttlSecondsAfterFinished: 3600,
    /** Size of the in-memory /dev/shm. */
    shmSize: '8Gi',
    /** Size limit of the writable /tmp scratch volume. */
    scratchSize: '50Gi',
    /** How long a pod may stay unschedulable before the attempt counts as failed. */
    unschedulableTimeoutSeconds: 1800,
    badInputExitCode: DEFAULT_BAD_INPUT_EXIT_CODE,
    /** Non-root uid/gid the trainer runs as; matches the user in trainer-image/Dockerfile. */
    runAsUser: 10001,
  } as const
  // withoutUndefined: an explicit `undefined` in the input must not erase a default.
  return { ...defaults, ...withoutUndefined(config) } as ResolvedKubernetesExecutorConfig
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

// Builds the batch/v1 Job that runs one trainer attempt. Pure: same request and config, same Job,
// which is what makes launching idempotent (the name is derived, never random).
import type { V1EnvVar, V1Job, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import type { TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'
import type { ResolvedKubernetesExecutorConfig } from '../../config/kubernetes-executor-config.ts'
import { jobLabels, jobResourceName } from './resource-names.ts'
import { SECRET_KEYS } from './secret-manifest.ts'
import { TRAINER_ENV } from '../../protocol/trainer-env.ts'

export const TRAINER_CONTAINER = 'trainer'
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name'
export const KUEUE_PRIORITY_LABEL = 'kueue.x-k8s.io/priority-class'
/** Where the CUDA kernel cache lives; trainer-image/Dockerfile points CUDA_CACHE_PATH here. */
export const CUDA_CACHE_MOUNT = '/var/cache/skillet/cuda'

export function buildTrainerJob(spec: TrainerJobSpec, config: ResolvedKubernetesExecutorConfig): V1Job {
  const name = jobResourceName(spec.jobId, spec.attempt)
  const labels = jobLabels(spec.jobId, spec.projectId, spec.attempt)
  const jobLabelsWithKueue: Record<string, string> = { ...labels }
  if (config.kueueQueueName) jobLabelsWithKueue[KUEUE_QUEUE_LABEL] = config.kueueQueueName
  if (config.kueuePriorityClass) jobLabelsWithKueue[KUEUE_PRIORITY_LABEL] = config.kueuePriorityClass

  const fromSecret = (envName: string, key: string): V1EnvVar => ({
    name: envName,
    valueFrom: { secretKeyRef: { name, key, optional: false } },
  })
  const env: V1EnvVar[] = [
    fromSecret(TRAINER_ENV.spec, SECRET_KEYS.spec),
    fromSecret(TRAINER_ENV.token, SECRET_KEYS.token),
    { name: TRAINER_ENV.callbackUrl, value: spec.callbackUrl },
    { name: 'TMPDIR', value: '/tmp' },
    ...Object.entries(config.extraEnv ?? {}).map(([k, v]) => ({ name: k, value: v })),
  ]

  const gpuLimit = config.gpuCount > 0 ? { [config.gpuResourceName]: String(config.gpuCount) } : {}
  const volumes: V1Volume[] = [
    // The default /dev/shm is 64Mi, too small for the data loader and the CUDA runtime.
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: config.shmSize } },
    // The root filesystem is read-only; /tmp is the trainer's scratch space (downloads, checkpoints).
    { name: 'scratch', emptyDir: { sizeLimit: config.scratchSize } },
    config.cudaCacheClaimName
      ? { name: 'cuda-cache', persistentVolumeClaim: { claimName: config.cudaCacheClaimName } }
      : { name: 'cuda-cache', emptyDir: {} },
    ...(config.extraVolumes ?? []),
  ]
  const volumeMounts: V1VolumeMount[] = [
    { name: 'dshm', mountPath: '/dev/shm' },
    { name: 'scratch', mountPath: '/tmp' },
    { name: 'cuda-cache', mountPath: CUDA_CACHE_MOUNT },
    ...(config.extraVolumeMounts ?? []),
  ]

  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: config.namespace, labels: jobLabelsWithKueue },
    spec: {
      // Kueue admits a Job by un-suspending it; without Kueue nobody would, so suspend only with a queue.
      ...(config.kueueQueueName ? { suspend: true } : {}),
      completions: 1,
      parallelism: 1,
      backoffLimit: config.backoffLimit,
      ...(config.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: config.activeDeadlineSeconds } : {}),
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      podFailurePolicy: {
        rules: [
          // Input the trainer can never train on: retrying cannot help, fail the Job now.
          {
            action: 'FailJob',
            onExitCodes: { containerName: TRAINER_CONTAINER, operator: 'In', values: [config.badInputExitCode] },
          },
          // Evictions, preemptions and node drains are not the trainer's fault: retry without
          // spending the backoff budget.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          // Required by podFailurePolicy; retries are new pods, so a restart never reuses /tmp state.
          restartPolicy: 'Never',
          ...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
          automountServiceAccountToken: false,
          ...(config.priorityClassName ? { priorityClassName: config.priorityClassName } : {}),
          ...(config.nodeSelector ? { nodeSelector: config.nodeSelector } : {}),
          ...(config.tolerations ? { tolerations: config.tolerations } : {}),
          ...(config.affinity ? { affinity: config.affinity } : {}),
          ...(config.imagePullSecrets?.length ? { imagePullSecrets: config.imagePullSecrets.map((n) => ({ name: n })) } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: config.runAsUser,
            runAsGroup: config.runAsUser,
            fsGroup: config.runAsUser,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: TRAINER_CONTAINER,
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              command: config.command,
              ...(config.args.length ? { args: config.args } : {}),
              env,
              ...(config.s3SecretName ? { envFrom: [{ secretRef: { name: config.s3SecretName, optional: false } }] } : {}),
              resources: {
                requests: { ...config.requests },
                limits: { ...config.limits, ...gpuLimit },
              },
              volumeMounts,
              // On a crash the last lines of the log become the termination message, which the
              // observer shows to the user without a separate log read.
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: {
                runAsNonRoot: true,
                runAsUser: config.runAsUser,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
          volumes,
        },
      },
    },
  }
}

// What the kubelet reports for a trainer pod at each step of a scripted lifecycle, shaped like the
// real status objects (reasons and messages copied from real clusters).
import type { V1Pod, V1PodCondition, V1ContainerStatus } from '@kubernetes/client-node'

export type PodStep =
  | 'unschedulable'
  | 'creating'
  | 'running'
  | 'succeeded'
  | 'oom'
  | 'evicted'
  | 'err-image-pull'
  | 'image-pull-backoff'
  | { exit: number; message?: string }

export function isTerminalStep(step: PodStep): boolean {
  return typeof step === 'object' || step === 'succeeded' || step === 'oom' || step === 'evicted'
}

type PodStatus = NonNullable<V1Pod['status']>

/** The status the pod has after `step`. Times are ISO strings, as on the wire. */
export function podStatusAfter(step: PodStep, pod: V1Pod, now: Date): PodStatus {
  const at = now.toISOString()
  const container = pod.spec!.containers[0]
  const image = container.image ?? ''
  const cond = (type: string, status: 'True' | 'False', extra: Partial<V1PodCondition> = {}) =>
    ({ type, status, lastProbeTime: null, lastTransitionTime: at, ...extra }) as unknown as V1PodCondition
  const containerStatus = (state: V1ContainerStatus['state'], ready = false, started = false): V1ContainerStatus =>
    ({ name: container.name, image, imageID: started ? `${image}@sha256:${'0'.repeat(64)}` : '', ready, restartCount: 0, started, state }) as V1ContainerStatus
  const scheduled = { hostIP: '10.0.0.7', podIP: '10.244.1.23', qosClass: 'Burstable' }
  const startedAt = (pod.status?.startTime as unknown as string | undefined) ?? at
  const terminatedBase = { startedAt, finishedAt: at, containerID: `containerd://${'a'.repeat(64)}` }

  switch (step) {
    case 'unschedulable':
      return {
        phase: 'Pending',
        qosClass: 'Burstable',
        conditions: [
          cond('PodScheduled', 'False', {
            reason: 'Unschedulable',
            message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.',
          }),
        ],
      } as unknown as PodStatus
    case 'creating':
    case 'err-image-pull':
    case 'image-pull-backoff': {
      const waiting =
        step === 'creating'
          ? { reason: 'ContainerCreating' }
          : step === 'err-image-pull'
            ? { reason: 'ErrImagePull', message: `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found` }
            : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` }
      return {
        ...scheduled,
        phase: 'Pending',
        startTime: at,
        conditions: [
          cond('PodReadyToStartContainers', 'True'),
          cond('Initialized', 'True'),
          cond('Ready', 'False', { reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]` }),
          cond('ContainersReady', 'False', { reason: 'ContainersNotReady', message: `containers with unready status: [${container.name}]` }),
          cond('PodScheduled', 'True'),
        ],
        containerStatuses: [containerStatus({ waiting })],
      } as unknown as PodStatus
    }
    case 'running':
      return {
        ...scheduled,
        phase: 'Running',
        startTime: startedAt,
        conditions: [cond('PodReadyToStartContainers', 'True'), cond('Initialized', 'True'), cond('Ready', 'True'), cond('ContainersReady', 'True'), cond('PodScheduled', 'True')],
        containerStatuses: [containerStatus({ running: { startedAt: at as unknown as Date } }, true, true)],
      } as unknown as PodStatus
    case 'succeeded':
      return finished('Succeeded', { exitCode: 0, reason: 'Completed', ...terminatedBase })
    case 'oom':
      return finished('Failed', { exitCode: 137, reason: 'OOMKilled', ...terminatedBase })
    case 'evicted': {
      const message =
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 61204Ki. Container trainer was using 14563292Ki, request is 8Gi, has larger consumption of memory. '
      return {
        ...(finished('Failed', { exitCode: 137, reason: 'Error', ...terminatedBase }) as object),
        reason: 'Evicted',
        message,
        conditions: [cond('DisruptionTarget', 'True', { reason: 'TerminationByKubelet', message }), cond('Ready', 'False'), cond('PodScheduled', 'True')],
      } as unknown as PodStatus
    }
    default:
      return finished(step.exit === 0 ? 'Succeeded' : 'Failed', {
        exitCode: step.exit,
        reason: step.exit === 0 ? 'Completed' : 'Error',
        ...(step.message ? { message: step.message } : {}),
        ...terminatedBase,
      })
  }

  function finished(phase: 'Succeeded' | 'Failed', terminated: Record<string, unknown>): PodStatus {
    return {
      ...scheduled,
      phase,
      startTime: startedAt,
      conditions: [
        cond('PodReadyToStartContainers', 'False'),
        cond('Initialized', 'True', { reason: 'PodCompleted' }),
        cond('Ready', 'False', { reason: 'PodCompleted' }),
        cond('ContainersReady', 'False', { reason: 'PodCompleted' }),
        cond('PodScheduled', 'True'),
      ],
      containerStatuses: [containerStatus({ terminated: terminated as never })],
    } as unknown as PodStatus
  }
}

// Turns what Kubernetes says about a trainer Job (the Job's status and its pods) into the executor's
// ExecutionObservation. Pure, so every way a trainer can fail is a table of plain objects in a test.
//
// Order matters: a finished Job is judged by its conditions (the Job controller has decided), with
// the failed pod consulted for the specific cause; a live Job is judged by its newest pod, because
// image pulls and scheduling problems never show in the Job's own status.
import type { V1Job, V1JobCondition, V1Pod, V1PodCondition } from '@kubernetes/client-node'
import type { ExecutionObservation } from '../executor/executor.ts'

export interface ObserveOptions {
  /** A pod unschedulable for at least this long fails the attempt. */
  unschedulableTimeoutSeconds: number
}

// Timestamps are Date objects when the typed client deserialised them and strings in raw watch events.
type Timestamp = Date | string | undefined

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull'])
const CONTAINER_CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError'])

export function observeJob(
  job: V1Job | undefined,
  pods: readonly V1Pod[],
  now: Date,
  options: ObserveOptions,
): ExecutionObservation {
  if (!job) return { phase: 'gone', message: 'no Kubernetes Job exists for this job attempt' }
  const byAge = [...pods].sort((a, b) => millis(a.metadata?.creationTimestamp) - millis(b.metadata?.creationTimestamp))

  if (isTrue(condition(job, 'Complete')) || isTrue(condition(job, 'SuccessCriteriaMet'))) return { phase: 'succeeded' }

  const failed = condition(job, 'Failed') ?? condition(job, 'FailureTarget')
  if (isTrue(failed)) return observeFailedJob(failed!, byAge)

  if (isTrue(condition(job, 'Suspended'))) {
    return { phase: 'pending', message: 'waiting for the cluster queue (Kueue) to admit the job' }
  }

  const newest = byAge.filter((p) => !isTerminal(p)).at(-1)
  const evicted = byAge.filter((p) => isTerminal(p) && describePodFailure(p)?.reason === 'evicted').at(-1)
  const retryNote = evicted ? `retrying after the previous pod was evicted: ${describePodFailure(evicted)!.message}` : undefined
  // The pod already exited 0 but the Job controller has not marked the Job complete yet: still
  // running, not back to pending (a watch can show this in-between state).
  if (!newest && byAge.at(-1)?.status?.phase === 'Succeeded') {
    return { phase: 'running', message: 'the trainer exited successfully; waiting for the Job to be marked complete' }
  }
  if (!newest) return { phase: 'pending', ...(retryNote ? { message: retryNote } : {}) }

  const stuck = describeStuckPod(newest, now, options)
  if (stuck) return stuck
  if (newest.status?.phase === 'Running') return { phase: 'running', ...(retryNote ? { message: retryNote } : {}) }
  const waiting = pendingMessage(newest)
  const message = [retryNote, waiting].filter(Boolean).join('; ')
  return { phase: 'pending', ...(message ? { message } : {}) }
}

function observeFailedJob(failed: V1JobCondition, byAge: V1Pod[]): ExecutionObservation {
  const lastFailure = byAge.map(describePodFailure).filter((f) => f !== undefined).at(-1)
  switch (failed.reason) {
    case 'PodFailurePolicy':
      return {
        phase: 'failed',
        reason: 'bad_input',
        message: lastFailure?.detail ?? failed.message ?? 'the trainer rejected its input',
      }
    case 'DeadlineExceeded':
      return {
        phase: 'failed',
        reason: 'deadline_exceeded',
        message: `the trainer ran longer than the configured deadline (activeDeadlineSeconds): ${failed.message ?? ''}`.trim(),
      }
    default:
      // BackoffLimitExceeded and anything newer: the failed pod says why.
      if (lastFailure) return { phase: 'failed', reason: lastFailure.reason, message: lastFailure.message }
      return {
        phase: 'failed',
        reason: failed.reason === 'BackoffLimitExceeded' ? 'exit_code' : 'job_failed',
        message: `${failed.reason ?? 'Failed'}: ${failed.message ?? 'the Job failed'}`,
      }
  }
}

interface PodFailure {
  reason: string
  message: string
  /** The trainer's own last words (termination message / log tail), when there are any. */
  detail?: string
}

/** Why a finished pod failed, or undefined if it did not. */
export function describePodFailure(pod: V1Pod): PodFailure | undefined {
  const status = pod.status
  if (status?.phase !== 'Failed') return undefined
  const disruption = podCondition(pod, 'DisruptionTarget')
  if (status.reason === 'Evicted' || isTrue(disruption)) {
    return { reason: 'evicted', message: `pod evicted: ${status.message ?? disruption?.message ?? disruption?.reason ?? 'disrupted'}` }
  }
  const terminated = status.containerStatuses?.map((c) => c.state?.terminated).find((t) => t && t.exitCode !== 0)
  if (terminated?.reason === 'OOMKilled') {
    const limit = pod.spec?.containers?.[0]?.resources?.limits?.memory
    return {
      reason: 'oom_killed',
      message:
        `the trainer was killed for using more memory than its limit${limit ? ` (${limit})` : ''} (OOMKilled, exit code ${terminated.exitCode}); ` +
        'use a smaller batch size or raise the trainer memory limit',
    }
  }
  if (terminated) {
    const detail = terminated.message?.trim() || undefined
    return {
      reason: 'exit_code',
      message: `the trainer exited with code ${terminated.exitCode}${detail ? `: ${detail}` : ''}`,
      ...(detail ? { detail } : {}),
    }
  }
  return { reason: 'pod_failed', message: `pod failed: ${status.reason ?? ''} ${status.message ?? ''}`.trim() }
}

/** A live pod that will never start by itself: a bad image, bad configuration, or no room for too long. */
function describeStuckPod(pod: V1Pod, now: Date, options: ObserveOptions): ExecutionObservation | undefined {
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting
    if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      return {
        phase: 'failed',
        reason: 'image_pull',
        message: `the trainer image ${c.image ?? ''} could not be pulled (${waiting.reason}): ${waiting.message ?? ''}`.replace(/\s+/g, ' ').trim(),
      }
    }
    if (waiting?.reason && CONTAINER_CONFIG_REASONS.has(waiting.reason)) {
      return { phase: 'failed', reason: 'container_config', message: `the trainer container cannot start (${waiting.reason}): ${waiting.message ?? ''}`.trim() }
    }
  }
  const scheduled = podCondition(pod, 'PodScheduled')
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const sinceSeconds = (now.getTime() - millis(scheduled.lastTransitionTime ?? pod.metadata?.creationTimestamp)) / 1000
    if (sinceSeconds >= options.unschedulableTimeoutSeconds) {
      return {
        phase: 'failed',
        reason: 'unschedulable',
        message: `no node could run the trainer for ${Math.round(sinceSeconds)}s: ${scheduled.message ?? 'Unschedulable'}`,
      }
    }
    return { phase: 'pending', message: `waiting for a node: ${scheduled.message ?? 'Unschedulable'}` }
  }
  return undefined
}

function pendingMessage(pod: V1Pod): string | undefined {
  const waiting = pod.status?.containerStatuses?.map((c) => c.state?.waiting).find(Boolean)
  return waiting?.reason ? `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` : undefined
}

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed'
}

function condition(job: V1Job, type: string): V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type)
}

function podCondition(pod: V1Pod, type: string): V1PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type)
}

function isTrue(c: { status: string } | undefined): boolean {
  return c?.status === 'True'
}

function millis(t: Timestamp): number {
  return t === undefined ? 0 : new Date(t).getTime()
}

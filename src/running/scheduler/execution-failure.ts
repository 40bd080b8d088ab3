// What a user reads when the runtime (a local child process, a Kubernetes Job) says a trainer failed:
// the executor's machine-readable reason becomes the job's error code, and its detail is put into a
// sentence that says what happened and what to do. Pure, so every cause is one line of a test.
import type { ExecutionObservation } from '../executor/executor.ts'

export interface JobError {
  code: string
  message: string
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
const sentence = (s: string) => (/[.!?]$/.test(s) ? s : `${s}.`)

/** The job error for a trainer observed as failed. */
export function jobErrorFor(seen: ExecutionObservation): JobError {
  const detail = seen.message?.trim()
  const withDetail = (lead: string) => sentence(detail ? `${lead}: ${detail}` : lead)
  switch (seen.reason) {
    case 'oom_killed':
      return { code: 'out_of_memory', message: withDetail('The trainer ran out of memory (OOMKilled)') }
    case 'image_pull':
      return { code: 'trainer_image_unavailable', message: withDetail('The trainer could not start because its image could not be pulled') }
    case 'container_config':
      return { code: 'trainer_misconfigured', message: withDetail('The trainer container could not be created') }
    case 'evicted':
      return { code: 'trainer_evicted', message: withDetail('The trainer was evicted from its node') }
    case 'deadline_exceeded':
      return { code: 'deadline_exceeded', message: withDetail('The trainer was stopped for running longer than the configured deadline') }
    case 'unschedulable':
      return { code: 'trainer_unschedulable', message: withDetail('No node in the cluster could run the trainer in time') }
    case 'bad_input':
      return { code: 'invalid_training_input', message: withDetail('The trainer rejected its input') }
    default:
      // exit_code and anything newer: the executor's own words already start with "the trainer …".
      return { code: 'trainer_failed', message: sentence(capitalized(detail || 'The trainer failed')) }
  }
}

/**
 * A trainer killed by a signal (SIGKILL: the OOM killer, an operator, a crashed node agent) is lost,
 * not wrong: the job is retried from its latest checkpoint like any lost trainer, within the attempt
 * budget. Returns why (for the retry event) and the code the job fails with once attempts run out.
 */
export function lostTrainerFor(seen: ExecutionObservation): { why: string; exhaustedCode: string } | null {
  if (seen.phase !== 'failed' || seen.reason !== 'killed_by_signal') return null
  const why = capitalized((seen.message?.trim() || 'The trainer was killed by a signal').replace(/[.]$/, ''))
  return { why, exhaustedCode: seen.outOfMemoryLikely ? 'out_of_memory' : 'trainer_lost' }
}

/** A warning worth an event while the trainer is still alive (e.g. a pod evicted and replaced), or null. */
export function liveNotice(seen: ExecutionObservation): string | null {
  if (seen.phase !== 'pending' && seen.phase !== 'running') return null
  if (seen.message && /previous pod was evicted/.test(seen.message)) {
    return `The trainer's pod was evicted; Kubernetes is starting a new one, which resumes from the latest checkpoint (${seen.message})`
  }
  return null
}

/** Failures that leave a live pod behind (it would wait for an image or a node forever): its Job must be deleted. */
export function leavesTrainerBehind(seen: ExecutionObservation): boolean {
  return seen.phase === 'failed' && (seen.reason === 'image_pull' || seen.reason === 'container_config' || seen.reason === 'unschedulable')
}

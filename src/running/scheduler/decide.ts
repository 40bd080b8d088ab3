// What to do about a job given what the runtime says about its trainer. Pure: the scheduler's own
// supervision (trainers this instance launched) and the observations the runtime pushes (the Kubernetes
// reconciler, for any job) both call it, then carry the decision out under the job's row lock.
import { createHash } from 'node:crypto'
import type { JobRow } from '../../jobs/job-object.ts'
import type { ExecutionObservation } from '../executor/executor.ts'
import { jobErrorFor, leavesTrainerBehind, liveNotice, lostTrainerFor } from './execution-failure.ts'

/**
 * A trainer reported gone this soon after its job's last sign of life (the claim, a heartbeat) may simply
 * not be created yet (another replica is launching it), so it is left to the heartbeat reaper.
 */
export const LAUNCH_GRACE_SECONDS = 60

export type Decision =
  /** Nothing to do (a healthy trainer, or a job already over). */
  | { action: 'none' }
  /** A trainer is alive for a job that no longer wants one (cancelled, paused, finished). */
  | { action: 'stop_trainer' }
  /** A notable change of a live trainer (an evicted pod replaced), recorded once as a warning event. */
  | { action: 'notice'; message: string; idempotencyKey: string }
  /** The trainer ended badly: fail the job; `stopTrainer` when a pod would otherwise linger. */
  | { action: 'fail'; code: string; message: string; stopTrainer: boolean }
  /** The trainer vanished or was killed: retry from the latest checkpoint (or fail with `exhaustedCode`, default trainer_lost, when out of attempts). */
  | { action: 'retry'; why: string; exhaustedCode?: string }

export interface DecideContext {
  /** 'launched': by this instance, which supervises it; 'pushed': told by the runtime about any job. */
  source: 'launched' | 'pushed'
}

const isActive = (row: JobRow) => row.status === 'running' || row.status === 'pausing'

export function decide(row: JobRow | undefined, seen: ExecutionObservation, now: number, context: DecideContext): Decision {
  if (!row) return { action: 'none' }
  const active = isActive(row)
  if (seen.phase === 'running' || seen.phase === 'pending') {
    if (!active) return { action: 'stop_trainer' }
    const notice = liveNotice(seen)
    if (!notice) return { action: 'none' }
    return { action: 'notice', message: notice, idempotencyKey: `runtime:${createHash('sha256').update(notice).digest('hex').slice(0, 16)}` }
  }
  if (!active) return { action: 'none' }
  const lost = lostTrainerFor(seen)
  if (lost) return { action: 'retry', why: lost.why, exhaustedCode: lost.exhaustedCode }
  if (seen.phase === 'failed') {
    const error = jobErrorFor(seen)
    return { action: 'fail', code: error.code, message: error.message, stopTrainer: leavesTrainerBehind(seen) }
  }
  if (seen.phase === 'succeeded') return { action: 'fail', code: 'trainer_failed', message: 'The trainer exited without reporting a result.', stopTrainer: false }
  // gone: a launch by another replica may not have created the trainer yet.
  if (context.source === 'pushed' && now - (row.heartbeatAt ?? 0) < LAUNCH_GRACE_SECONDS) return { action: 'none' }
  return { action: 'retry', why: 'The trainer is gone (its process or pod no longer exists)' }
}

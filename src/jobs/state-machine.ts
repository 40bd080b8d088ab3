// Every change of a fine-tuning job's status goes through `transition`: one pure function of
// (status, action), so the whole life cycle can be read — and tested — in this one table.
//
//   validating_files ─validated─▶ queued ─start─▶ running ─succeed─▶ succeeded
//          │  └─validated_dry_run─▶ succeeded       │  ├─pause─▶ pausing ─paused─▶ paused ─resume─▶ queued
//          └─fail─▶ failed                           │  └─retry─▶ queued (trainer lost; resumes from its checkpoint)
//   cancel: from any non-terminal status ─▶ cancelled;  fail: from any non-terminal status ─▶ failed

export const JOB_STATUSES = ['validating_files', 'queued', 'running', 'pausing', 'paused', 'succeeded', 'failed', 'cancelled'] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

export const JOB_ACTIONS = [
  /** Files checked and hyperparameters resolved: the job may run. */
  'validated',
  /** Files checked for a dry run: nothing to train, the estimate is the result. */
  'validated_dry_run',
  /** A scheduler claimed the job and launches a trainer. */
  'start',
  /** The user asked to pause. */
  'pause',
  /** The trainer stopped after writing a checkpoint (or a queued job was paused before it ran). */
  'paused',
  /** The user asked to resume a paused job. */
  'resume',
  /** The trainer vanished; another attempt will resume from the latest checkpoint. */
  'retry',
  'succeed',
  'fail',
  'cancel',
] as const
export type JobAction = (typeof JOB_ACTIONS)[number]

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled']

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status)
}

/** Statuses in which a trainer may be running and must keep heartbeating. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['running', 'pausing']

const TABLE: Record<JobStatus, Partial<Record<JobAction, JobStatus>>> = {
  validating_files: { validated: 'queued', validated_dry_run: 'succeeded', fail: 'failed', cancel: 'cancelled' },
  // A queued job has no trainer yet, so pausing it takes effect at once.
  queued: { start: 'running', pause: 'paused', fail: 'failed', cancel: 'cancelled' },
  running: { pause: 'pausing', retry: 'queued', succeed: 'succeeded', fail: 'failed', cancel: 'cancelled' },
  // The trainer may finish before it sees the pause; a lost trainer while pausing leaves the job
  // paused at its latest checkpoint, which is what pausing promised.
  pausing: { paused: 'paused', retry: 'paused', succeed: 'succeeded', fail: 'failed', cancel: 'cancelled' },
  paused: { resume: 'queued', cancel: 'cancelled' },
  succeeded: {},
  failed: {},
  cancelled: {},
}

export type TransitionResult = { ok: true; status: JobStatus } | { ok: false; message: string }

const VERB: Record<JobAction, string> = {
  validated: 'be queued',
  validated_dry_run: 'finish its dry run',
  start: 'start',
  pause: 'be paused',
  paused: 'become paused',
  resume: 'be resumed',
  retry: 'be retried',
  succeed: 'succeed',
  fail: 'fail',
  cancel: 'be cancelled',
}

/** The status after `action`, or why a job in `status` cannot take it (a sentence for a 400). */
export function transition(status: JobStatus, action: JobAction): TransitionResult {
  const next = TABLE[status][action]
  if (next !== undefined) return { ok: true, status: next }
  const why = isTerminal(status) ? `it has already ${status === 'succeeded' ? 'succeeded' : status === 'failed' ? 'failed' : 'been cancelled'}` : `its status is ${status}`
  return { ok: false, message: `The job cannot ${VERB[action]}: ${why}.` }
}

export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value)
}

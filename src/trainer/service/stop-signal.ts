// Why the trainer should stop before finishing, gathered from everywhere it can come from: the
// API's answer to a heartbeat or report (`stop: 'pause' | 'cancel'`, a 401/409), SIGTERM (a
// cancel or pause from the local executor, a node drain on Kubernetes). The training loop polls
// `trainerRequest()` after every step.
export type StopReason =
  /** The user paused the job: checkpoint, report paused, exit 0. */
  | 'pause'
  /** The job no longer runs (cancelled, finished, another attempt owns it): exit at once. */
  | 'cancel'
  /** SIGTERM without a request from the API (eviction, drain): checkpoint and exit; the attempt is lost. */
  | 'terminate'
  /** A report failed for good: stop wasting compute; the run ends with that error. */
  | 'report-failed'

/** Stronger reasons win: a cancel overrides a pause, which overrides a bare SIGTERM. */
const RANK: Record<StopReason, number> = { terminate: 1, pause: 2, 'report-failed': 3, cancel: 4 }

export class StopSignal {
  private current: StopReason | null = null
  private readonly listeners: ((reason: StopReason) => void)[] = []

  get reason(): StopReason | null {
    return this.current
  }

  request(reason: StopReason): void {
    if (this.current && RANK[this.current] >= RANK[reason]) return
    this.current = reason
    for (const listener of this.listeners) listener(reason)
  }

  /** The API's `stop` field from a job-state answer. */
  fromJobState(stop: 'pause' | 'cancel' | null): void {
    if (stop) this.request(stop)
  }

  onRequest(listener: (reason: StopReason) => void): void {
    this.listeners.push(listener)
  }

  /** The Trainer's StopRequest: keep progress for a pause or a drain, drop it otherwise. */
  trainerRequest(): 'checkpoint' | 'discard' | null {
    if (this.current === null) return null
    return this.current === 'pause' || this.current === 'terminate' ? 'checkpoint' : 'discard'
  }
}

// Milliseconds spent in each phase of something, for one log line (the server's start-up: module
// loading, database, demo model, routes, listening), measured from the start of the process.

export class PhaseTimer {
  private last: number
  readonly phases: Record<string, number> = {}

  /** The first phase ends now: by default the time since the process started (its imports). */
  constructor(first = 'imports') {
    this.last = performance.now()
    this.phases[first] = Math.round(this.last)
  }

  /** Ends the phase called `name`, which began when the previous one ended. */
  lap(name: string): void {
    const now = performance.now()
    this.phases[name] = Math.round(now - this.last)
    this.last = now
  }

  /** Milliseconds since the process started. */
  get totalMs(): number {
    return Math.round(this.last)
  }
}

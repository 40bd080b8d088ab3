import type { Logger } from 'pino'

/** Fire-and-forget work that shutdown still waits for (e.g. validating a just-uploaded file). */
export class BackgroundTasks {
  private readonly running = new Set<Promise<unknown>>()
  private readonly log: Logger
  constructor(log: Logger) {
    this.log = log
  }

  run(name: string, task: () => Promise<unknown>): void {
    const p = task()
      .catch((err) => this.log.error({ err, task: name }, 'background task failed'))
      .finally(() => this.running.delete(p))
    this.running.add(p)
  }

  get size(): number {
    return this.running.size
  }

  /** Resolves once every task started so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }
}

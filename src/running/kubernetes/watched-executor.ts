// An Executor whose observe() answers from what the Kubernetes reconciler last pushed, so the
// scheduler's once-a-tick supervision of its trainers costs no API-server requests. Until the
// reconciler has said anything about a job (just launched, or the watch has not caught up), observe()
// asks the cluster. A launch or cancel drops the job's cached observation: it described the attempt
// before, not the one that follows.
import type { ExecutionObservation, Executor, LaunchRequest } from '../executor/executor.ts'

export class WatchedExecutor implements Executor {
  readonly kind: Executor['kind']
  private readonly inner: Executor
  private readonly latest = new Map<string, ExecutionObservation>()

  constructor(inner: Executor) {
    this.inner = inner
    this.kind = inner.kind
  }

  /** The reconciler's newest observation of a job. */
  record(jobId: string, observation: ExecutionObservation): void {
    this.latest.set(jobId, observation)
  }

  async launch(req: LaunchRequest): Promise<void> {
    this.latest.delete(req.spec.jobId)
    await this.inner.launch(req)
  }

  async cancel(jobId: string): Promise<void> {
    this.latest.delete(jobId)
    await this.inner.cancel(jobId)
  }

  async observe(jobId: string): Promise<ExecutionObservation> {
    return this.latest.get(jobId) ?? this.inner.observe(jobId)
  }

  /** Asks the runtime itself, bypassing what the reconciler said. */
  observeNow(jobId: string): Promise<ExecutionObservation> {
    return this.inner.observe(jobId)
  }

  /** The scheduler has acted on the job's outcome. */
  forget(jobId: string): void {
    this.latest.delete(jobId)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

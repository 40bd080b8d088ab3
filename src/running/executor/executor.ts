// The seam between the scheduler and wherever trainers actually run (a child process on this
// machine, or a Kubernetes Job). The scheduler only ever talks to this interface.
import type { TrainerJobSpec } from '../../protocol/trainer-job-spec.ts'

export interface LaunchRequest {
  spec: TrainerJobSpec
  /** Per-job bearer token for the internal endpoints; never logged. */
  token: string
}

export type ExecutionPhase = 'pending' | 'running' | 'succeeded' | 'failed' | 'gone'

export interface ExecutionObservation {
  phase: ExecutionPhase
  /** Machine-readable reason when failed, e.g. 'oom_killed', 'image_pull', 'evicted', 'deadline_exceeded', 'unschedulable', 'exit_code', 'bad_input', 'killed_by_signal'. */
  reason?: string
  /** With 'killed_by_signal': the kernel's out-of-memory killer is the likely cause. */
  outOfMemoryLikely?: boolean
  /** A human-readable message (e.g. the tail of the trainer's log) when failed. */
  message?: string
}

export interface Executor {
  readonly kind: 'local' | 'kubernetes'
  /** Starts the trainer for this job attempt. Idempotent: launching an attempt that already runs is a no-op. */
  launch(req: LaunchRequest): Promise<void>
  /** Stops the job's trainer (if any) and cleans up. Idempotent. */
  cancel(jobId: string): Promise<void>
  /** What the runtime knows about the job's trainer right now. */
  observe(jobId: string): Promise<ExecutionObservation>
  /** Releases resources (watches, child processes) on shutdown. */
  close(): Promise<void>
}

// The seam between the scheduler and wherever trainers actually run (a child process on this
// machine, or a Kubernetes Job). The scheduler only ever talks to this interface.

/** Everything a trainer needs to run one job; serialised as JSON into the trainer's environment. */
export interface TrainerJobSpec {
  jobId: string
  projectId: string
  /**
   * Base model id and where its Hugging Face directory lives. `publicId` is the name the outside
   * world knows it by (the Hub repo id of an hf: model), written into the adapter's config.
   */
  model: { id: string; publicId?: string; source: { kind: 'dir'; path: string } | { kind: 'blob'; prefix: string } }
  trainingFile: { id: string; blobKey: string }
  validationFile: { id: string; blobKey: string } | null
  method:
    | { type: 'supervised'; nEpochs: number; batchSize: number; learningRateMultiplier: number }
    | { type: 'dpo'; nEpochs: number; batchSize: number; learningRateMultiplier: number; beta: number }
  seed: number
  /** Blob-store prefix where checkpoints and artifacts go (e.g. "jobs/ftjob-abc/"). */
  outputPrefix: string
  /** Base URL of the API's internal trainer endpoints, e.g. "http://skillet-api:8080/internal/v1". */
  callbackUrl: string
  /** Attempt number, 1-based; a retried attempt resumes from the latest checkpoint. */
  attempt: number
}

export interface LaunchRequest {
  spec: TrainerJobSpec
  /** Per-job bearer token for the internal endpoints; never logged. */
  token: string
}

export type ExecutionPhase = 'pending' | 'running' | 'succeeded' | 'failed' | 'gone'

export interface ExecutionObservation {
  phase: ExecutionPhase
  /** Machine-readable reason when failed, e.g. 'oom_killed', 'image_pull', 'evicted', 'deadline_exceeded', 'unschedulable', 'exit_code', 'bad_input'. */
  reason?: string
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

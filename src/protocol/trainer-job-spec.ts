// The job spec a trainer runs from: built by the scheduler, handed to the trainer through its
// environment (trainer-env.ts), read by src/trainer/service/trainer-config.ts.

/** Everything a trainer needs to run one job; serialised as JSON into the trainer's environment. */
export interface TrainerJobSpec {
  jobId: string
  projectId: string
  /** Base model id and where its Hugging Face directory lives. */
  model: { id: string; source: { kind: 'dir'; path: string } | { kind: 'blob'; prefix: string } }
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

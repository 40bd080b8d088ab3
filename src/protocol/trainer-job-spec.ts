// The job spec a trainer runs from: built by the scheduler, handed to the trainer through its
// environment (trainer-env.ts), read by src/trainer/service/trainer-config.ts.
import type { Adapter, GgufFileType } from './training-settings.ts'

/** The job's choices beyond OpenAI's hyperparameters; each absent one is the trainer's default. */
export interface TrainingChoices {
  /** LoRA (the default) or full fine-tuning (supervised only). */
  adapter?: Adapter
  lora?: { rank?: number; alpha?: number; dropout?: number; targetModules?: string[] }
  /** GGUF files to export; absent: the trainer's SKILLET_TRAINER_GGUF_TYPE. */
  ggufTypes?: GgufFileType[]
}

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
  /** Skillet's extensions; absent in specs from before they existed. */
  training?: TrainingChoices
  seed: number
  /** Blob-store prefix where checkpoints and artifacts go (e.g. "jobs/ftjob-abc/"). */
  outputPrefix: string
  /** Base URL of the API's internal trainer endpoints, e.g. "http://skillet-api:8080/internal/v1". */
  callbackUrl: string
  /** Attempt number, 1-based; a retried attempt resumes from the latest checkpoint. */
  attempt: number
}

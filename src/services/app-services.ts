// Everything the routes need, wired once in buildApp.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Database } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { BackgroundTasks } from '../lib/background-tasks.ts'
import * as filesService from './files.ts'
import { pendingValidations, validateStoredFile } from './file-validation.ts'
import type { JobsDeps } from './fine-tuning-jobs.ts'
import type { ModelsDeps } from './models.ts'
import type { TrainerDeps } from '../reports/trainer-reports.ts'
import { unixNow } from '../lib/ids.ts'
import { Signal } from '../lib/signal.ts'
import { createInference, type InferenceDeps } from '../inference/inference-service.ts'

export interface AppServices {
  config: Config
  database: Database
  blobs: BlobStore
  files: filesService.FilesDeps
  tasks: BackgroundTasks
  /** Fine-tuning jobs; `jobs.wake` notifies `jobWork`. */
  jobs: JobsDeps
  /** Notified when there is new job work (a job created or resumed, a file validated); an in-process scheduler subscribes. */
  jobWork: Signal
  models: ModelsDeps
  trainer: TrainerDeps
  /** Chat Completions and Completions: model resolution and the engine (llama.cpp loads on first use). */
  inference: InferenceDeps
  /** Records a stored file; fine-tune files then validate in the background. */
  createFileRecord(row: Omit<Parameters<typeof filesService.insertFile>[1], 'status'>): Promise<filesService.FileRow>
  /** Deletes a blob that no record points to (a failed upload); queued for the sweeper if that fails. */
  discardBlob(blobKey: string): Promise<void>
  /** Work to do once at start: re-validate files a crash left half-done. */
  recover(): Promise<void>
}

export function createAppServices(deps: { config: Config; database: Database; blobs: BlobStore; log: Logger }): AppServices {
  const files: filesService.FilesDeps = { db: deps.database.db, blobs: deps.blobs }
  const tasks = new BackgroundTasks(deps.log)
  const jobWork = new Signal()
  const jobs: JobsDeps = { db: deps.database.db, jobs: deps.config.jobs, wake: () => jobWork.notify() }
  // A validated file may unblock a job waiting in validating_files: tell the scheduler.
  const validate = (fileId: string) =>
    tasks.run(`validate ${fileId}`, () => validateStoredFile(files, fileId, { maxLineBytes: deps.config.maxJsonlLineBytes, log: deps.log }).then(() => jobs.wake()))

  return {
    config: deps.config,
    database: deps.database,
    blobs: deps.blobs,
    files,
    tasks,
    jobs,
    jobWork,
    models: { db: deps.database.db, blobs: deps.blobs, baseModels: deps.config.jobs.baseModels, startedAt: unixNow() },
    trainer: { db: deps.database.db, blobs: deps.blobs },
    inference: createInference({ config: deps.config, db: deps.database.db, blobs: deps.blobs, log: deps.log, startedAt: unixNow() }),
    async createFileRecord(row) {
      const needsValidation = row.purpose === 'fine-tune'
      const saved = await filesService.insertFile(files, { ...row, status: needsValidation ? 'uploaded' : 'processed' })
      if (needsValidation) validate(saved.id)
      return saved
    },
    async discardBlob(blobKey) {
      await deps.blobs.delete(blobKey).catch(async () => {
        await filesService.queueGarbage(files, blobKey)
      })
    },
    async recover() {
      for (const id of await pendingValidations(files)) validate(id)
    },
  }
}

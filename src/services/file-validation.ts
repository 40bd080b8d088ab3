// Fine-tune files are validated after upload, streaming from the blob store: uploaded → processed | error.
import { and, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import { files } from '../db/schema/index.ts'
import { validateFineTuneJsonl } from '../files/validation/validate-jsonl.ts'
import { statusDetails } from '../files/validation/status-details.ts'
import type { FilesDeps } from './files.ts'

/** Said of a file whose validation could not be recorded: the file ends `error`, never pending. */
export const UNRECORDABLE_VALIDATION = 'the file could not be validated (an internal error); upload it again'

/**
 * Validates a fine-tune file and records the outcome. A file never stays `uploaded` (and a job on it
 * in `validating_files`) because its validation failed or could not be written: it ends `error`.
 */
export async function validateStoredFile(deps: FilesDeps, fileId: string, opts: { maxLineBytes: number; log: Logger }): Promise<void> {
  const [row] = await deps.db.select().from(files).where(eq(files.id, fileId))
  if (!row || row.status !== 'uploaded') return
  const pending = and(eq(files.id, fileId), eq(files.status, 'uploaded'))
  try {
    const report = await validateFineTuneJsonl(await deps.blobs.get(row.blobKey), { maxLineBytes: opts.maxLineBytes })
    await deps.db
      .update(files)
      .set({
        status: report.ok ? 'processed' : 'error',
        statusDetails: statusDetails(report),
        dataset: { format: report.format, examples: report.examples, stats: report.stats },
      })
      .where(pending)
    opts.log.info({ fileId, ok: report.ok, format: report.format, examples: report.examples }, 'validated fine-tune file')
  } catch (err) {
    opts.log.error({ err, fileId }, 'fine-tune file validation failed; the file is marked error')
    await deps.db.update(files).set({ status: 'error', statusDetails: UNRECORDABLE_VALIDATION, dataset: null }).where(pending)
  }
}

/** Files left in 'uploaded' by a crash are validated again at start. */
export async function pendingValidations(deps: FilesDeps): Promise<string[]> {
  const rows = await deps.db
    .select({ id: files.id })
    .from(files)
    .where(and(eq(files.status, 'uploaded'), eq(files.purpose, 'fine-tune')))
  return rows.map((r) => r.id)
}

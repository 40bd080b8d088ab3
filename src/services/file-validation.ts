// Fine-tune files are validated after upload, streaming from the blob store: uploaded → processed | error.
import { and, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import { files } from '../db/schema/index.ts'
import { validateFineTuneJsonl } from '../files/validation/validate-jsonl.ts'
import { statusDetails } from '../files/validation/status-details.ts'
import type { FilesDeps } from './files.ts'

export async function validateStoredFile(deps: FilesDeps, fileId: string, opts: { maxLineBytes: number; log: Logger }): Promise<void> {
  const [row] = await deps.db.select().from(files).where(eq(files.id, fileId))
  if (!row || row.status !== 'uploaded') return
  const report = await validateFineTuneJsonl(await deps.blobs.get(row.blobKey), { maxLineBytes: opts.maxLineBytes })
  await deps.db
    .update(files)
    .set({
      status: report.ok ? 'processed' : 'error',
      statusDetails: statusDetails(report),
      dataset: { format: report.format, examples: report.examples, stats: report.stats },
    })
    .where(and(eq(files.id, fileId), eq(files.status, 'uploaded')))
  opts.log.info({ fileId, ok: report.ok, format: report.format, examples: report.examples }, 'validated fine-tune file')
}

/** Files left in 'uploaded' by a crash are validated again at start. */
export async function pendingValidations(deps: FilesDeps): Promise<string[]> {
  const rows = await deps.db
    .select({ id: files.id })
    .from(files)
    .where(and(eq(files.status, 'uploaded'), eq(files.purpose, 'fine-tune')))
  return rows.map((r) => r.id)
}

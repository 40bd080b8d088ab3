// A stored file's validation result, read back from its row in the shape the method check wants.
import type { files } from '../db/schema/index.ts'
import type { DatasetReport } from './validation/validate-jsonl.ts'

type FileRow = typeof files.$inferSelect

/** The stored validation result of a fine-tune file, as the method check wants it. */
export function datasetReportOf(file: FileRow): DatasetReport {
  const d = (file.dataset ?? {}) as Partial<DatasetReport>
  return { ok: file.status === 'processed', format: d.format ?? null, examples: d.examples ?? 0, errors: [], errorCount: 0, stats: d.stats as DatasetReport['stats'] }
}

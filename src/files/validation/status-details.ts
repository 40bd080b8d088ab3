// Renders a dataset report as the `status_details` string of an OpenAI file
// object (and the `error.message` of a job that refuses the file), e.g.
// "line 3: unknown role 'wizard' in messages[1]; line 7: blank line (and 12 more errors)".

import type { DatasetReport } from './validate-jsonl.ts'

/** The report's errors in one line, or null for a valid file. */
export function statusDetails(report: DatasetReport): string | null {
  if (report.errorCount === 0) return null
  const listed = report.errors.map((error) => (error.line > 0 ? `line ${error.line}: ${error.message}` : error.message))
  const unlisted = report.errorCount - report.errors.length
  const more = unlisted > 0 ? ` (and ${unlisted} more error${unlisted === 1 ? '' : 's'})` : ''
  return listed.join('; ') + more
}

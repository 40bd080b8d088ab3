// Which dataset formats each fine-tuning method trains on, and whether a
// validated file can be used for a job. Pure decisions for the jobs API.

import type { DatasetFormat } from './example-rules.ts'
import type { DatasetReport } from './validate-jsonl.ts'

export type FineTuneMethodType = 'supervised' | 'dpo' | 'reinforcement'

// Reinforcement fine-tuning needs grader-specific fields this validator does
// not check, so no format qualifies for it yet.
const FORMATS_BY_METHOD: Record<FineTuneMethodType, readonly DatasetFormat[]> = {
  supervised: ['chat', 'prompt_completion'],
  dpo: ['preference'],
  reinforcement: [],
}

/** OpenAI refuses training files with fewer examples than this. */
export const MIN_TRAINING_EXAMPLES = 10

export function formatsForMethod(method: FineTuneMethodType): readonly DatasetFormat[] {
  return FORMATS_BY_METHOD[method]
}

export function formatSuitsMethod(format: DatasetFormat | null, method: FineTuneMethodType): boolean {
  return format !== null && FORMATS_BY_METHOD[method].includes(format)
}

/**
 * Why a validated file cannot train a job with `method`, or null when it can.
 * `minExamples` is OpenAI's minimum for training files; validation files
 * (any size) pass 1.
 */
export function datasetProblemForMethod(
  report: DatasetReport,
  method: FineTuneMethodType,
  minExamples: number = MIN_TRAINING_EXAMPLES,
): string | null {
  if (!report.ok) return 'the file failed validation'
  const formats = FORMATS_BY_METHOD[method]
  if (formats.length === 0) return `method '${method}' is not supported`
  if (!formatSuitsMethod(report.format, method)) {
    return `method '${method}' needs ${formats.join(' or ')} examples, but the file is in ${report.format} format`
  }
  if (report.examples < minExamples) {
    return `the file has ${report.examples} example${report.examples === 1 ? '' : 's'}, but at least ${minExamples} are required`
  }
  return null
}

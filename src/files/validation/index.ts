// Public surface of the fine-tuning dataset validator.

export type { DatasetFormat } from './example-rules.ts'
export {
  validateFineTuneJsonl,
  DEFAULT_MAX_ERRORS,
  DEFAULT_MAX_LINE_BYTES,
  type DatasetError,
  type DatasetReport,
  type DatasetStats,
  type JsonlSource,
  type ValidateOptions,
} from './validate-jsonl.ts'
export { statusDetails } from './status-details.ts'
export {
  datasetProblemForMethod,
  formatSuitsMethod,
  formatsForMethod,
  MIN_TRAINING_EXAMPLES,
  type FineTuneMethodType,
} from './fine-tune-method.ts'

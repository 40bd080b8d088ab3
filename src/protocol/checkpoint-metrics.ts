// The metrics a checkpoint carries (OpenAI's names, as in a checkpoint's `metrics` and a metrics
// event's `data`) and which of them a job may choose its best checkpoint by. One list, read by
// the API (to check `best_checkpoint_metric`) and the trainer (to compare checkpoints). A new
// evaluation adds its score here: its name, whether higher or lower is better, and whether it
// needs a validation file.
import { ANSWER_METRICS } from './answer-eval-settings.ts'

interface MetricRule { better: 'lower' | 'higher'; needsValidationFile: boolean }

/** The answer evaluation's scores (answer-eval-settings.ts): eval_exact_match, eval_fuzzy_match, …, 0 … 1. */
const ANSWER_EVAL_METRICS = Object.fromEntries(ANSWER_METRICS.map((name) => [name, { better: 'higher', needsValidationFile: true }])) as
  Record<(typeof ANSWER_METRICS)[number], { better: 'higher'; needsValidationFile: true }>

export const CHECKPOINT_METRICS = {
  valid_loss: { better: 'lower', needsValidationFile: true },
  valid_mean_token_accuracy: { better: 'higher', needsValidationFile: true },
  full_valid_loss: { better: 'lower', needsValidationFile: true },
  full_valid_mean_token_accuracy: { better: 'higher', needsValidationFile: true },
  ...ANSWER_EVAL_METRICS,
} as const satisfies Record<string, MetricRule>

export type CheckpointMetricName = keyof typeof CHECKPOINT_METRICS
export const CHECKPOINT_METRIC_NAMES = Object.keys(CHECKPOINT_METRICS) as CheckpointMetricName[]

/** The metric the best checkpoint is chosen by when the job names none. */
export const DEFAULT_BEST_CHECKPOINT_METRIC: CheckpointMetricName = 'valid_loss'

export const isCheckpointMetric = (name: unknown): name is CheckpointMetricName =>
  typeof name === 'string' && Object.hasOwn(CHECKPOINT_METRICS, name)

/** True when `a` is better than `b` on `metric` by more than `minDelta`. */
export function improves(metric: CheckpointMetricName, a: number, b: number, minDelta = 0): boolean {
  return CHECKPOINT_METRICS[metric].better === 'lower' ? a < b - minDelta : a > b + minDelta
}

/** Which checkpoint the fine-tuned model serves: the best by the metric, or the last one. */
export const SERVED_CHECKPOINTS = ['best', 'last'] as const
export type ServedCheckpoint = (typeof SERVED_CHECKPOINTS)[number]

// When a run validates, on what, and what it makes of the numbers: pure decisions for the Trainer.
//
//   - Validation on a fixed sample of the validation file every `everySteps` optimizer steps
//     (default: ceil(total steps / 20), so 10–20 points for any run of 20 steps or more, one per
//     step below that), at each epoch end and at every checkpoint; over the whole file at each checkpoint.
//   - Early stopping: after `patience` validation points in a row whose sample validation loss is
//     not below the best so far by more than `minDelta`, the run stops. Each point that improves it
//     is made a checkpoint, so the best point is always a checkpoint that can be served.
//   - The best checkpoint: the one with the best value of the chosen metric (checkpoint-metrics.ts).
import { type CheckpointMetricName, improves } from '../../protocol/checkpoint-metrics.ts'
import type { ServedCheckpoint } from '../../protocol/checkpoint-metrics.ts'

/** Validation points a run gets by default (at most; at least half as many from 20 steps on). */
export const DEFAULT_VALIDATION_POINTS = 20
/** The fixed sample validated every `everySteps`: the first validation batches up to this many examples. */
export const VALIDATION_SAMPLE_EXAMPLES = 64

export interface EvaluationOptions {
  /** Validate the fixed sample every N optimizer steps; 'auto': ceil(total steps / 20). */
  everySteps: number | 'auto'
  /** Stop after `patience` validation points without improvement; null: never stop early. */
  earlyStopping: { patience: number; minDelta: number } | null
  /** What "best checkpoint" means. */
  bestMetric: CheckpointMetricName
  /** What the run's final weights are: the best checkpoint's, or the last step's. */
  serve: ServedCheckpoint
}

export const EVALUATION_DEFAULTS: EvaluationOptions = { everySteps: 'auto', earlyStopping: null, bestMetric: 'valid_loss', serve: 'best' }

export function validationInterval(everySteps: number | 'auto', totalSteps: number): number {
  return everySteps === 'auto' ? Math.max(1, Math.ceil(totalSteps / DEFAULT_VALIDATION_POINTS)) : everySteps
}

/** The leading batches holding up to `maxExamples` examples (at least one batch). */
export function sampleBatches<B>(batches: B[], examplesOf: (b: B) => number, maxExamples = VALIDATION_SAMPLE_EXAMPLES): B[] {
  const out: B[] = []
  let n = 0
  for (const b of batches) {
    if (out.length > 0 && n + examplesOf(b) > maxExamples) break
    out.push(b)
    n += examplesOf(b)
  }
  return out
}

/** What the run remembers about its evaluations; saved in every checkpoint so a resume continues it. */
export interface EvaluationState {
  /** Early stopping: the lowest sample validation loss so far, and validation points since it. */
  lowestValidLoss: number | null
  pointsSinceLowest: number
  /** The best checkpoint so far by the chosen metric. */
  best: { step: number; value: number } | null
}

export const INITIAL_EVALUATION_STATE: EvaluationState = { lowestValidLoss: null, pointsSinceLowest: 0, best: null }

/** After a validation point: did it improve the loss, and does early stopping end the run here? */
export function afterValidation(state: EvaluationState, validLoss: number, early: EvaluationOptions['earlyStopping']): { state: EvaluationState; improved: boolean; stop: boolean } {
  if (!Number.isFinite(validLoss)) return { state, improved: false, stop: false }
  const improved = state.lowestValidLoss === null || improves('valid_loss', validLoss, state.lowestValidLoss, early?.minDelta ?? 0)
  const next = improved ? { ...state, lowestValidLoss: validLoss, pointsSinceLowest: 0 } : { ...state, pointsSinceLowest: state.pointsSinceLowest + 1 }
  return { state: next, improved, stop: early !== null && next.pointsSinceLowest >= early.patience }
}

/** After a checkpoint with these metrics: is it the new best by `metric`? */
export function afterCheckpoint(state: EvaluationState, step: number, metrics: Record<string, number>, metric: CheckpointMetricName): EvaluationState {
  const value = metrics[metric]
  if (value === undefined || !Number.isFinite(value)) return state
  if (state.best && !improves(metric, value, state.best.value)) return state
  return { ...state, best: { step, value } }
}

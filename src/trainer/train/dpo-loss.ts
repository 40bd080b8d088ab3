// Direct Preference Optimization (Rafailov et al. 2023):
//   loss = −log σ(β · [(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))])
// averaged over pairs. The reference policy π_ref is the same model with its LoRA adapters
// switched off — the frozen base — so no second copy of the weights exists.
import * as tf from '@tensorflow/tfjs-core'
import { forwardHidden, type TokenBatch } from '../model/forward.ts'
import type { LoraAdapters } from '../model/lora.ts'
import type { ModelWeights } from '../model/weights.ts'
import type { Targets } from './targets.ts'
import { labelLogProbs } from './token-log-probs.ts'

/**
 * A preference batch: rows 0..P-1 are the chosen completions, rows P..2P-1 the rejected ones
 * of the same pairs, all padded to one length, so one forward pass scores both.
 */
export interface PreferenceBatch extends TokenBatch {
  lossMask: Int32Array
  pairs: number
}

/** Summed target log-probs per sequence, [2P]. Call inside a gradient function or tidy. */
function sequenceLogProbs(weights: ModelWeights, lora: LoraAdapters | null, batch: PreferenceBatch, targets: Targets,
  dropoutSeed: number | null, checkpointBlocks = false): { perSequence: tf.Tensor1D; correct: tf.Scalar } {
  const hidden = forwardHidden(weights, batch, { lora, dropoutSeed, checkpointBlocks }) // [2P·T, D]
  const rows = tf.gather(hidden, tf.tensor1d(targets.rows, 'int32')) as tf.Tensor2D // [targets, D]
  const { logProbs, correct } = labelLogProbs(weights, rows, targets.labels) // [targets]
  const perSequence = tf.unsortedSegmentSum(logProbs, tf.tensor1d(targets.sequence, 'int32'), batch.batchSize) as tf.Tensor1D // [2P]
  return { perSequence, correct }
}

/** Reference log-probs [2P] as host numbers: adapters off, no dropout, no gradient. */
export async function referenceLogProbs(weights: ModelWeights, lora: LoraAdapters, batch: PreferenceBatch, targets: Targets): Promise<Float32Array> {
  const wasEnabled = lora.enabled
  lora.enabled = false
  try {
    const perSequence = tf.tidy(() => {
      const { perSequence, correct } = sequenceLogProbs(weights, lora, batch, targets, null)
      correct.dispose()
      return perSequence
    })
    const values = (await perSequence.data()) as Float32Array
    perSequence.dispose()
    return values
  } finally {
    lora.enabled = wasEnabled
  }
}

export interface DpoLossResult {
  /** Scalar: the pairs' summed DPO loss divided by `normalizer` (the step's pair count). */
  loss: tf.Scalar
  correct: tf.Scalar
  /** [P] (chosen − rejected) implicit reward margins, kept: the caller disposes it. */
  margins: tf.Tensor1D
}

export function dpoLoss(weights: ModelWeights, lora: LoraAdapters, batch: PreferenceBatch, targets: Targets,
  reference: Float32Array, opts: { beta: number; normalizer: number; dropoutSeed: number | null; checkpointBlocks?: boolean }): DpoLossResult {
  const P = batch.pairs
  const { perSequence, correct } = sequenceLogProbs(weights, lora, batch, targets, opts.dropoutSeed, opts.checkpointBlocks) // [2P]
  const logRatios = tf.sub(perSequence, tf.tensor1d(reference)) // [2P]: log π − log π_ref
  const [chosen, rejected] = tf.split(logRatios, [P, P]) // each [P]
  const margins = tf.mul(tf.sub(chosen, rejected), opts.beta) as tf.Tensor1D // [P]
  // −log σ(m) = softplus(−m), the numerically stable form.
  const loss = tf.div(tf.sum(tf.softplus(tf.neg(margins))), opts.normalizer) as tf.Scalar
  return { loss, correct, margins: tf.keep(margins) }
}

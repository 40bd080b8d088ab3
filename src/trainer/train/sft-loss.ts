// Supervised fine-tuning objective: masked next-token cross-entropy.
import * as tf from '@tensorflow/tfjs-core'
import { forwardHidden, type TokenBatch } from '../model/forward.ts'
import type { LoraAdapters } from '../model/lora.ts'
import type { ModelWeights } from '../model/weights.ts'
import { selectTargets, type Targets } from './targets.ts'
import { labelLogProbs } from './token-log-probs.ts'

export interface SftLossResult {
  /** Scalar: summed negative log-likelihood of the targets divided by `normalizer`. */
  loss: tf.Scalar
  /** Scalar count of targets predicted exactly (argmax), kept: the caller disposes it. */
  correct: tf.Scalar
}

/**
 * Dividing by `normalizer` (the number of targets in the whole optimizer step, across
 * gradient-accumulation micro-batches) makes accumulated gradients equal to those of one big
 * batch whose loss is the mean over all its target tokens.
 */
export function sftLoss(weights: ModelWeights, lora: LoraAdapters | null, batch: TokenBatch, targets: Targets,
  opts: { normalizer: number; dropoutSeed: number | null; checkpointBlocks?: boolean }): SftLossResult {
  const hidden = forwardHidden(weights, batch, { lora, dropoutSeed: opts.dropoutSeed, checkpointBlocks: opts.checkpointBlocks }) // [B·T, D]
  const rows = tf.gather(hidden, tf.tensor1d(targets.rows, 'int32')) as tf.Tensor2D // [targets, D]
  const { logProbs, correct } = labelLogProbs(weights, rows, targets.labels) // [targets]
  const loss = tf.div(tf.neg(tf.sum(logProbs)), opts.normalizer) as tf.Scalar
  return { loss, correct }
}

/** Summed loss, right argmax predictions and target count of one batch, without gradients or dropout (validation). */
export async function sftEvaluation(weights: ModelWeights, lora: LoraAdapters | null, batch: TokenBatch & { lossMask: Int32Array }): Promise<{ lossSum: number; hits: number; count: number }> {
  const targets = selectTargets(batch)
  if (targets.rows.length === 0) return { lossSum: 0, hits: 0, count: 0 }
  const out = tf.tidy(() => {
    const r = sftLoss(weights, lora, batch, targets, { normalizer: 1, dropoutSeed: null })
    const both = tf.stack([r.loss, r.correct])
    r.correct.dispose()
    return both
  })
  const [lossSum, hits] = await out.data()
  out.dispose()
  return { lossSum, hits, count: targets.rows.length }
}

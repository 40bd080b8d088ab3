// log p(label | context) for selected positions, through the output head, in row chunks.
//
// The logits of a whole batch ([tokens, vocab]: 8·512 × 150k floats is 2.4 GB) are never
// built. Each chunk of rows is a custom-gradient op: its forward computes the chunk's logits,
// keeps only the per-row log-prob, and drops the logits; its backward recomputes them (one
// extra head product) and returns the gradients for the hidden rows and, when the head
// trains, for the head weight. Peak memory is one chunk of logits, forward or backward; on a GPU a
// chunk also stays under the device's storage-binding limit (see backend/memory-plan.ts).
import * as tf from '@tensorflow/tfjs-core'
import { softcap } from '../model/forward.ts'
import type { ModelWeights } from '../model/weights.ts'
import { addMany } from '../backend/add-many.ts'
import { logitsChunkRows } from '../backend/memory-plan.ts'
import { activeGpuLimits } from '../backend/webgpu.ts'

export interface LabelLogProbs {
  /** [rows]: log-softmax of the head's logits at each row's label. */
  logProbs: tf.Tensor1D
  /** Scalar: how many rows' argmax equals the label. Not differentiable; dispose it. */
  correct: tf.Scalar
}

/**
 * hidden [rows, D] (rows already selected: one per target token), labels [rows] host ids.
 * Call inside a gradient function or tidy; `correct` is kept (survives the enclosing tidy).
 */
export function labelLogProbs(weights: ModelWeights, hidden: tf.Tensor2D, labels: Int32Array,
  chunkRows = logitsChunkRows(weights.config.vocabSize, activeGpuLimits()?.maxStorageBufferBindingSize)): LabelLogProbs {
  const { weight: head, vocabMajor } = weights.headWeight()
  const headTrains = head instanceof tf.Variable && head.trainable
  const vocab = weights.config.vocabSize
  const rows = hidden.shape[0]
  const pieces: tf.Tensor1D[] = []
  const correctCounts: tf.Scalar[] = []

  for (let start = 0; start < rows; start += chunkRows) {
    const size = Math.min(chunkRows, rows - start)
    const labelIds = labels.subarray(start, start + size)
    const chunkLabels = tf.tensor1d(labelIds, 'int32') // [c]
    const h = size === rows ? hidden : tf.slice(hidden, [start, 0], [size, -1]) // [c, D]

    // logits [c, V] = h · W  (W is [D, V]), or h · Wᵀ when the head is stored [V, D]; Gemma-2
    // soft-caps them: cap·tanh(u / cap) of that product u.
    const cap = weights.config.gemma2?.finalLogitSoftcap ?? null
    const productOf = (hc: tf.Tensor2D, w: tf.Tensor2D) => tf.matMul(hc, w, false, vocabMajor)
    const logitsOf = (hc: tf.Tensor2D, w: tf.Tensor2D) => softcap(productOf(hc, w), cap)

    const forward = (hc: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
      save(headTrains ? [hc, w] : [hc])
      const logits = logitsOf(hc, w) // [c, V]
      const onehot = tf.oneHot(chunkLabels, vocab) // [c, V]
      const picked = tf.sum(tf.mul(logits, onehot), -1) // [c]
      const value = tf.sub(picked, tf.logSumExp(logits, -1)) as tf.Tensor1D // [c]
      correctCounts.push(tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), chunkLabels), 'float32'))))
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const hs = saved[0] as tf.Tensor2D
        const ws = (headTrains ? saved[1] : head) as tf.Tensor2D
        const u = productOf(hs, ws) // [c, V]
        const lg = softcap(u, cap) // [c, V]
        // d logp / d logits = onehot − softmax, scaled per row by the upstream gradient.
        // The backward pass runs after the forward's tensors are gone: rebuild the labels from host ids.
        const dCapped = tf.mul(tf.sub(tf.oneHot(tf.tensor1d(labelIds, 'int32'), vocab), tf.softmax(lg, -1)), tf.reshape(dy, [-1, 1])) as tf.Tensor2D // [c, V]
        // Through the cap: d(cap·tanh(u / cap))/du = 1 − tanh²(u / cap).
        const dLogits = cap === null ? dCapped : tf.mul(dCapped, tf.sub(1, tf.square(tf.tanh(tf.div(u, cap))))) as tf.Tensor2D // [c, V]
        // dh = dLogits · (h-to-logits matrix)ᵀ
        const dh = tf.matMul(dLogits, ws, false, !vocabMajor) // [c, D]
        if (!headTrains) return [dh]
        // dW = hᵀ · dLogits ([D, V]), or its transpose dLogitsᵀ · h ([V, D]) for a vocab-major head
        const dw = vocabMajor ? tf.matMul(dLogits, hs, true, false) : tf.matMul(hs, dLogits, true, false)
        return [dh, dw]
      }
      return { value, gradFunc }
    }

    const piece = headTrains
      ? tf.customGrad((hc, w, save) => forward(hc as tf.Tensor2D, w as tf.Tensor2D, save as tf.GradSaveFunc))(h, head)
      : tf.customGrad((hc, save) => forward(hc as tf.Tensor2D, head as tf.Tensor2D, save as tf.GradSaveFunc))(h)
    pieces.push(piece as tf.Tensor1D)
  }

  const logProbs = pieces.length === 1 ? pieces[0] : tf.concat(pieces) as tf.Tensor1D
  const correct = tf.keep(correctCounts.length === 1 ? correctCounts[0] : addMany(correctCounts))
  if (correctCounts.length > 1) correctCounts.forEach((c) => c.dispose())
  return { logProbs, correct }
}

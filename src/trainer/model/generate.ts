// Greedy decoding without a KV cache: each new token re-runs the whole (short) sequence.
// Meant for evaluation samples and tests on small models, not for serving.
import * as tf from '@tensorflow/tfjs-core'
import { forwardHidden, projectToVocab } from './forward.ts'
import type { LoraAdapters } from './lora.ts'
import type { ModelWeights } from './weights.ts'

/**
 * Continues every prompt (all the same length, so no padding is needed) by up to
 * `maxNewTokens` argmax tokens, stopping a row at `eosId` or any of `stopIds` (the stop token is
 * kept). Returns only the new tokens.
 */
export async function greedyGenerate(weights: ModelWeights, lora: LoraAdapters | null, prompts: number[][],
  opts: { maxNewTokens: number; eosId: number | null; stopIds?: readonly number[] }): Promise<number[][]> {
  const stops = new Set([...(opts.eosId === null ? [] : [opts.eosId]), ...(opts.stopIds ?? [])])
  const rows = prompts.map((p) => [...p])
  if (new Set(rows.map((r) => r.length)).size > 1) throw new Error('greedyGenerate: prompts must have equal length')
  const done = rows.map(() => false)
  const generated: number[][] = rows.map(() => [])
  for (let step = 0; step < opts.maxNewTokens && done.includes(false); step++) {
    const B = rows.length
    const T = rows[0].length
    const ids = Int32Array.from(rows.flat())
    const next = tf.tidy(() => {
      const hidden = forwardHidden(weights, { ids, attentionMask: new Int32Array(B * T).fill(1), batchSize: B, seqLen: T }, { lora }) // [B·T, D]
      const last = tf.gather(hidden, tf.tensor1d(Array.from({ length: B }, (_, b) => b * T + T - 1), 'int32')) as tf.Tensor2D // [B, D]
      return tf.argMax(projectToVocab(weights, last), -1) // [B]
    })
    const tokens = await next.data()
    next.dispose()
    rows.forEach((row, b) => {
      // Finished rows keep being fed (equal lengths); their extra tokens are not recorded.
      row.push(tokens[b])
      if (done[b]) return
      generated[b].push(tokens[b])
      if (stops.has(tokens[b])) done[b] = true
    })
  }
  return generated
}

// Which positions of a batch are next-token targets: pure host-side bookkeeping.
import type { TokenBatch } from '../model/forward.ts'

export interface Targets {
  /** Flat row index b·T + t of each predicting position (the token before the target). */
  rows: Int32Array
  /** The target token id for each row. */
  labels: Int32Array
  /** Which sequence (batch row b) each target belongs to. */
  sequence: Int32Array
}

/**
 * Position t predicts token t+1; it is a target when lossMask[t+1] = 1. The first token is
 * never a target (nothing predicts it).
 */
export function selectTargets(batch: TokenBatch & { lossMask: ArrayLike<number> }): Targets {
  const { batchSize: B, seqLen: T, ids, lossMask } = batch
  const rows: number[] = []
  const labels: number[] = []
  const sequence: number[] = []
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + 1 < T; t++) {
      if (lossMask[b * T + t + 1] !== 1) continue
      rows.push(b * T + t)
      labels.push(ids[b * T + t + 1])
      sequence.push(b)
    }
  }
  return { rows: Int32Array.from(rows), labels: Int32Array.from(labels), sequence: Int32Array.from(sequence) }
}

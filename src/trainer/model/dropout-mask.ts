// LoRA dropout masks, drawn from a seed.
//
// Why not tf.dropout: it draws a uniform per element through tf.randomUniform (a JS
// generator behind an object call per element) and then spends four more full-size tensor
// passes (add, floor, div, mul) turning them into a mask. A LoRA step needs one mask per
// adapted module — 28 of them, each [tokens, in], in a 4-layer model — so that was a
// visible share of the step; so was a full-size host array per mask, filled and uploaded.
//
// Here only the dropped positions are drawn: in a run of independent Bernoulli(rate) trials
// the gaps between drops are geometric, so jumping from drop to drop by
// floor(ln U / ln(1 − rate)) gives exactly the distribution of a draw per element, with
// rate·size draws instead of size (5% of them at the usual 0.05). The backend then writes
// the dense mask itself (sparseToDense), with dropout's 1/(1 − rate) and any other constant
// factor folded into the kept value. Draws come from the trainer's seeded xoshiro128**
// (random.ts), a fresh stream per seed, so consecutive seeds give unrelated masks.
import * as tf from '@tensorflow/tfjs-core'
import { Random } from './random.ts'

/** The positions in [0, size) that dropout at `rate` zeroes for `seed`, ascending. */
export function dropPositions(seed: number, size: number, rate: number): Int32Array {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`)
  if (rate === 0) return new Int32Array(0)
  const rng = Random.fromSeed(seed)
  const logKeep = Math.log1p(-rate)
  // Room for the expected count plus slack; grown on the rare overflow.
  let out = new Int32Array(Math.ceil(size * rate * 1.1) + 16)
  let count = 0
  // U in (0, 1]: ln U is finite. The gap is the number of kept elements before the next drop.
  for (let i = -1; ;) {
    const u = (rng.nextUint32() + 1) / 4294967296
    i += 1 + Math.floor(Math.log(u) / logKeep)
    if (i >= size) return out.subarray(0, count)
    if (count === out.length) {
      const grown = new Int32Array(out.length * 2)
      grown.set(out)
      out = grown
    }
    out[count++] = i
  }
}

/**
 * A [rows, cols] mask: 0 at the dropped positions, `keptValue` elsewhere. Call inside tf.tidy
 * or a gradient function.
 *
 * The list of positions handed to the backend has a fixed length for a given size and rate
 * (six standard deviations above the expected count, padded by repeating the last position,
 * which only writes 0 again): a length that changed every step would make the webgpu
 * backend's buffer pool allocate a new size every step.
 */
export function dropoutMask(seed: number, rows: number, cols: number, rate: number, keptValue: number): tf.Tensor2D {
  const size = rows * cols
  const dropped = dropPositions(seed, size, rate)
  if (dropped.length === 0) return tf.fill([rows, cols], keptValue)
  const capacity = Math.ceil(size * rate + 6 * Math.sqrt(size * rate * (1 - rate))) + 8
  let positions = dropped
  if (dropped.length < capacity) {
    positions = new Int32Array(capacity).fill(dropped[dropped.length - 1])
    positions.set(dropped)
  }
  const dense = tf.sparseToDense(tf.tensor1d(positions, 'int32'), tf.scalar(0), [size], tf.scalar(keptValue))
  return tf.reshape(dense, [rows, cols])
}

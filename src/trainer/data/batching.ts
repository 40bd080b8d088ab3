// Length-bucketed batching: examples of similar length share a batch so little compute goes to
// padding. Pure and deterministic for a given seed (a new seed per epoch reshuffles).
import { seededRandom } from '../tiny/seeded-random.ts'
import type { EncodedSequence } from './example-types.ts'

export interface Batch {
  batchSize: number
  /** Padded length of every row. */
  seqLen: number
  /** Row-major [batchSize, seqLen]; right-padded with the pad id. */
  ids: Int32Array
  /** 1 where the token is a training target, 0 elsewhere (and on padding). */
  lossMask: Int32Array
  /** 1 on real tokens, 0 on padding. */
  attentionMask: Int32Array
  /** Which input examples the rows are, in row order. */
  exampleIndices: number[]
}

export interface BatchOptions {
  batchSize: number
  seed: number
  padId: number
  /** Round seqLen up to a multiple of this (fewer distinct shapes for the compute backend). */
  padToMultipleOf?: number
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/**
 * Shuffles, sorts by length (ties stay in shuffled order), cuts into batches of neighbours,
 * then shuffles the batch order so training does not see lengths in ascending order.
 */
export function makeBatches(examples: EncodedSequence[], options: BatchOptions): Batch[] {
  const random = seededRandom(options.seed)
  const order = shuffle(
    examples.map((_, i) => i),
    random.next,
  ).sort((a, b) => examples[a].ids.length - examples[b].ids.length)
  const groups: number[][] = []
  for (let i = 0; i < order.length; i += options.batchSize) groups.push(order.slice(i, i + options.batchSize))
  return shuffle(groups, random.next).map((group) => padBatch(examples, group, options))
}

export function padBatch(examples: EncodedSequence[], indices: number[], options: Pick<BatchOptions, 'padId' | 'padToMultipleOf'>): Batch {
  const multiple = options.padToMultipleOf ?? 1
  const longest = Math.max(1, ...indices.map((i) => examples[i].ids.length))
  const seqLen = Math.ceil(longest / multiple) * multiple
  const ids = new Int32Array(indices.length * seqLen).fill(options.padId)
  const lossMask = new Int32Array(indices.length * seqLen)
  const attentionMask = new Int32Array(indices.length * seqLen)
  indices.forEach((exampleIndex, row) => {
    const example = examples[exampleIndex]
    ids.set(example.ids, row * seqLen)
    lossMask.set(example.lossMask, row * seqLen)
    attentionMask.fill(1, row * seqLen, row * seqLen + example.ids.length)
  })
  return { batchSize: indices.length, seqLen, ids, lossMask, attentionMask, exampleIndices: indices }
}

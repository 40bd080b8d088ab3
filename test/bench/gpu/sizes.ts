// The model sizes of the GPU measurements (docs/gpu.md), and the FLOPs a training step of each
// must compute. test/bench/gpu/torch_yardstick.py defines the same sizes and the same count.
//
// FLOPs (a multiply-add = 2) as in train.bench.ts: projections, full T×T attention scores and
// P·V, the head over every position but the last; frozen weights get no weight gradient (LoRA
// backward through the base is 1× forward, full fine-tuning 2×). Recomputed logits are not counted.
import type { TrainingMethod } from '../../../src/protocol/auto-hyperparameters.ts'

export interface BenchSize {
  hidden: number
  layers: number
  heads: number
  kvHeads: number
  intermediate: number
  vocab: number
  seq: number
  batch: number
  rank: number
  /** The LM head shares the embedding (SmolLM2); default untied. */
  tied?: boolean
}

export const SIZES: Record<string, BenchSize> = {
  // npm run bench:train's configuration.
  bench: { hidden: 256, layers: 4, heads: 4, kvHeads: 4, intermediate: 512, vocab: 512, seq: 128, batch: 8, rank: 8 },
  // SmolLM2-135M's shape (random weights): what a user would first try on a laptop.
  '135m': { hidden: 576, layers: 30, heads: 9, kvHeads: 3, intermediate: 1536, vocab: 49152, seq: 512, batch: 8, rank: 8, tied: true },
  // ~141M parameters (untied head), GPT-2-small-like widths.
  '150m': { hidden: 768, layers: 12, heads: 12, kvHeads: 12, intermediate: 2304, vocab: 32000, seq: 512, batch: 8, rank: 8 },
  // ~607M parameters.
  '600m': { hidden: 1536, layers: 18, heads: 12, kvHeads: 12, intermediate: 4096, vocab: 32000, seq: 512, batch: 4, rank: 8 },
}

export function parameterCount(s: BenchSize): number {
  const headDim = s.hidden / s.heads
  const perLayer = 2 * s.hidden * s.heads * headDim + 2 * s.hidden * s.kvHeads * headDim + 3 * s.hidden * s.intermediate + 2 * s.hidden
  return (s.tied ? 1 : 2) * s.vocab * s.hidden + s.layers * perLayer + s.hidden
}

/** Forward + backward FLOPs of one step on all seven projections' LoRA (or full). */
export function stepFlops(s: BenchSize, method: TrainingMethod): number {
  const N = s.batch * s.seq
  const R = s.batch * (s.seq - 1)
  const D = s.hidden, I = s.intermediate, q = s.heads * (D / s.heads), kv = s.kvHeads * (D / s.heads)
  const projections = 2 * N * (2 * D * q + 2 * D * kv + 3 * D * I) * s.layers
  const attention = 2 * 2 * s.batch * s.seq * s.seq * q * s.layers
  const head = 2 * R * D * s.vocab
  // LoRA x·A then ·B per module: q,k,v,o (in+out), gate, up (D+I), down (I+D).
  const lora = method === 'full' ? 0 : 2 * s.rank * ((D + q) * 2 + (D + kv) * 2 + (D + I) * 3) * N * s.layers
  const forward = projections + attention + head + lora
  const backward = method === 'full' ? 2 * (projections + attention + head) : projections + 2 * attention + head + 2 * lora
  return forward + backward
}

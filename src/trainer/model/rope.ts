// Rotary position embeddings: the per-pair rotation frequencies and the cos/sin tables.
// Pure functions of the config; the forward pass turns the tables into tensors.
import type { ModelConfig } from './types.ts'

/**
 * inv_freq[i] = 1 / theta^(2i / headDim), i < headDim/2, adjusted by `rope_scaling`:
 * - linear: every frequency divided by `factor` (positions stretched uniformly);
 * - llama3: long wavelengths divided by `factor`, short ones kept, a smooth blend between
 *   (transformers' `_compute_llama3_parameters`);
 * - longrope: frequency i divided by short_factor[i], or by long_factor[i] when the sequence is
 *   longer than the original context (transformers' `_compute_longrope_parameters` and its
 *   dynamic update, which looks at the longest position of the batch: `seqLen` here).
 */
export function ropeInverseFrequencies(config: ModelConfig, seqLen = 0): Float64Array {
  const half = config.headDim / 2
  const invFreq = new Float64Array(half)
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim)
  const scaling = config.ropeScaling
  if (!scaling) return invFreq
  if (scaling.type === 'linear') return invFreq.map((f) => f / scaling.factor)
  if (scaling.type === 'longrope') {
    const divisors = seqLen > scaling.originalMaxPositionEmbeddings ? scaling.longFactor : scaling.shortFactor
    if (divisors.length !== half) throw new Error(`rope_scaling: ${divisors.length} longrope factors for ${half} frequencies (head_dim / 2)`)
    return invFreq.map((f, i) => f / divisors[i])
  }

  const lowFreqFactor = scaling.lowFreqFactor ?? 1
  const highFreqFactor = scaling.highFreqFactor ?? 4
  const oldContext = scaling.originalMaxPositionEmbeddings ?? 8192
  const lowFreqWavelen = oldContext / lowFreqFactor
  const highFreqWavelen = oldContext / highFreqFactor
  return invFreq.map((freq) => {
    const wavelen = (2 * Math.PI) / freq
    if (wavelen < highFreqWavelen) return freq
    if (wavelen > lowFreqWavelen) return freq / scaling.factor
    const smooth = (oldContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
    return (1 - smooth) * (freq / scaling.factor) + smooth * freq
  })
}

/** What cos and sin are multiplied by: longrope's attention factor, else 1. */
export function ropeAttentionScale(config: ModelConfig): number {
  return config.ropeScaling?.type === 'longrope' ? config.ropeScaling.attentionFactor : 1
}

/** cos/sin of position·inv_freq for positions 0..seqLen-1, each [seqLen, headDim/2] row-major. */
export function ropeTables(config: ModelConfig, seqLen: number): { cos: Float32Array; sin: Float32Array } {
  const invFreq = ropeInverseFrequencies(config, seqLen)
  const scale = ropeAttentionScale(config)
  const half = invFreq.length
  const cos = new Float32Array(seqLen * half)
  const sin = new Float32Array(seqLen * half)
  for (let pos = 0; pos < seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      // HF computes the angle in float32; doing it in float64 differs by < 1 ulp of the result.
      const angle = pos * invFreq[i]
      cos[pos * half + i] = Math.cos(angle) * scale
      sin[pos * half + i] = Math.sin(angle) * scale
    }
  }
  return { cos, sin }
}

/**
 * The tables tiled for rotating rows of a [batch·seqLen·heads, headDim] tensor (token-major,
 * heads inner) as  rope(x) = x ⊙ cos + (x·P) ⊙ sin,  P = halfSwap(headDim):
 * cos repeats each position's cosines over both halves; sin carries the rotate_half sign
 * (−sin on the first half, +sin on the second). Full size, so every multiply is elementwise
 * without broadcasting.
 */
export function ropeRows(config: ModelConfig, batch: number, seqLen: number, heads: number): { cos: Float32Array; sin: Float32Array } {
  const { cos, sin } = ropeTables(config, seqLen)
  const dh = config.headDim
  const half = dh / 2
  const rows = batch * seqLen * heads
  const cosRows = new Float32Array(rows * dh)
  const sinRows = new Float32Array(rows * dh)
  for (let row = 0; row < rows; row++) {
    const pos = Math.floor(row / heads) % seqLen
    for (let i = 0; i < half; i++) {
      const c = cos[pos * half + i]
      const s = sin[pos * half + i]
      cosRows[row * dh + i] = c
      cosRows[row * dh + half + i] = c
      sinRows[row * dh + i] = -s
      sinRows[row * dh + half + i] = s
    }
  }
  return { cos: cosRows, sin: sinRows }
}

/**
 * P [dim, dim] with (x·P) = x's two halves swapped: P[i, j] = 1 where i = (j + dim/2) mod dim.
 * As a product the swap runs on the fast matmul path; tf.split + tf.concat over a 64-wide
 * last axis copy in small pieces and cost several times as much on wasm.
 */
export function halfSwap(dim: number): Float32Array {
  const p = new Float32Array(dim * dim)
  for (let j = 0; j < dim; j++) p[((j + dim / 2) % dim) * dim + j] = 1
  return p
}

// A frozen base projection held quantised (QLoRA): the packed integers live in host memory (a
// typed array outside the tensor backend's heap), and every product that needs the weight
// dequantises it into a transient f32 tensor that is disposed right after — in the forward pass and
// again in the backward pass (recomputed, never kept). Two formats, both on the compute layout
// W [in, out] (x[tokens, in] · W):
//
//   int8: per output channel (a column of W), symmetric: q = round(w / s), s = max|w| / 127;
//         1 byte per weight + 4 per column. |w − q·s| ≤ s/2.
//   q4:   llama.cpp's Q4_0 rule on blocks of 32 consecutive inputs of one output channel (the
//         blocks GGUF's Q4_0 uses, on HF's [out, in] rows): d = m / −8 where m is the block's value
//         of largest magnitude (sign kept), q = clamp(round(w / d) + 8, 0, 15), w ≈ (q − 8)·d;
//         two weights per byte + a 4-byte scale per block (0.625 bytes per weight).
//         |w − (q − 8)·d| ≤ |d|/2 within [−8|d|, 7|d|], and ≤ |d| = |m|/8 for the one clamped end.
import * as tf from '@tensorflow/tfjs-core'

export type QuantBits = 4 | 8

/** Inputs per Q4 block. */
export const Q4_BLOCK = 32

export interface QuantisedMatrix {
  readonly bits: QuantBits
  /** [in, out], as the f32 weight it replaces. */
  readonly shape: [number, number]
  /** int8: one value per weight, row-major [in, out]; q4: two nibbles per byte (even index low). */
  readonly packed: Int8Array | Uint8Array
  /** int8: [out]; q4: [ceil(in / 32), out]. */
  readonly scales: Float32Array
}

/** Bytes the quantised matrix holds (packed values and scales). */
export function quantisedBytes(m: QuantisedMatrix): number {
  return m.packed.byteLength + m.scales.byteLength
}

/** Quantises W [in, out] (row-major f32). */
export function quantiseMatrix(data: Float32Array, shape: [number, number], bits: QuantBits): QuantisedMatrix {
  return bits === 8 ? quantiseInt8(data, shape) : quantiseQ4(data, shape)
}

function quantiseInt8(data: Float32Array, [rows, cols]: [number, number]): QuantisedMatrix {
  const scales = new Float32Array(cols)
  for (let r = 0; r < rows; r++) {
    const row = r * cols
    for (let c = 0; c < cols; c++) scales[c] = Math.max(scales[c], Math.abs(data[row + c]))
  }
  for (let c = 0; c < cols; c++) scales[c] /= 127
  const packed = new Int8Array(rows * cols)
  for (let r = 0; r < rows; r++) {
    const row = r * cols
    for (let c = 0; c < cols; c++) packed[row + c] = scales[c] === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(data[row + c] / scales[c])))
  }
  return { bits: 8, shape: [rows, cols], packed, scales }
}

function quantiseQ4(data: Float32Array, [rows, cols]: [number, number]): QuantisedMatrix {
  const blocks = Math.ceil(rows / Q4_BLOCK)
  const scales = new Float32Array(blocks * cols)
  for (let b = 0; b < blocks; b++) {
    for (let c = 0; c < cols; c++) {
      let m = 0
      for (let r = b * Q4_BLOCK; r < Math.min(rows, (b + 1) * Q4_BLOCK); r++) {
        const v = data[r * cols + c]
        if (Math.abs(v) > Math.abs(m)) m = v
      }
      scales[b * cols + c] = m / -8
    }
  }
  const packed = new Uint8Array(Math.ceil((rows * cols) / 2))
  for (let r = 0; r < rows; r++) {
    const row = r * cols
    const block = (r >> 5) * cols
    for (let c = 0; c < cols; c++) {
      const d = scales[block + c]
      const q = d === 0 ? 8 : Math.max(0, Math.min(15, Math.round(data[row + c] / d) + 8))
      const i = row + c
      packed[i >> 1] |= (i & 1) === 0 ? q : q << 4
    }
  }
  return { bits: 4, shape: [rows, cols], packed, scales }
}

/** The f32 values of the quantised matrix, row-major [in, out]; into `into` when given (at least that long). */
export function dequantiseValues(m: QuantisedMatrix, into?: Float32Array): Float32Array {
  const [rows, cols] = m.shape
  const out = into ? into.subarray(0, rows * cols) : new Float32Array(rows * cols)
  const { packed, scales } = m
  if (m.bits === 8) {
    for (let r = 0; r < rows; r++) {
      const row = r * cols
      for (let c = 0; c < cols; c++) out[row + c] = packed[row + c] * scales[c]
    }
    return out
  }
  for (let r = 0; r < rows; r++) {
    const row = r * cols
    const block = (r >> 5) * cols
    for (let c = 0; c < cols; c++) {
      const i = row + c
      const byte = packed[i >> 1]
      out[i] = (((i & 1) === 0 ? byte & 15 : byte >> 4) - 8) * scales[block + c]
    }
  }
  return out
}

/**
 * One buffer the dequantised values pass through on the wasm backend, which copies a new tensor's
 * values into its heap at once: a fresh array per product would leave megabytes of garbage per
 * projection per pass, and the process's RSS would grow with it. Other backends may keep the array
 * they are given (cpu, webgpu until upload), so they get a fresh one.
 */
let scratch = new Float32Array(0)

/** A transient f32 tensor of the matrix: the caller disposes it as soon as its product is taken. */
export function dequantiseTensor(m: QuantisedMatrix): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') return tf.tensor2d(dequantiseValues(m), m.shape, 'float32')
  const n = m.shape[0] * m.shape[1]
  if (scratch.length < n) scratch = new Float32Array(n)
  return tf.tensor2d(dequantiseValues(m, scratch), m.shape, 'float32')
}

/** A weight as a projection sees it: a resident f32 tensor, or a quantised matrix dequantised per use. */
export type ProjectionWeight = tf.Tensor2D | QuantisedMatrix

export function isQuantised(w: ProjectionWeight): w is QuantisedMatrix {
  return !(w instanceof tf.Tensor)
}

/** Runs `use` with the weight as a tensor; a dequantised one is disposed right after. */
export function withWeight<T>(w: ProjectionWeight, use: (weight: tf.Tensor2D) => T): T {
  if (!isQuantised(w)) return use(w)
  const t = dequantiseTensor(w)
  try {
    return use(t)
  } finally {
    t.dispose()
  }
}

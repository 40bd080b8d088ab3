// ggml's block quantisations, ported from its reference implementation (ggml/src/ggml-quants.c,
// the quantize_row_*_ref functions llama-quantize uses when no importance matrix is given), so a
// file written here holds the bytes llama.cpp's own tools would write from the same f32 weights.
// Every float operation is rounded to f32 (Math.fround) in C's order of evaluation: ggml computes
// in single precision, and its rounding decides which integer a weight becomes.
//
// Block layouts (little-endian, ggml-common.h):
//   Q8_0  32 values: d f16 | qs int8[32]                                          34 bytes
//   Q4_0  32 values: d f16 | qs u8[16] (value j low nibble, j+16 high)            18 bytes
//   Q5_0  32 values: d f16 | qh u8[4] (5th bits) | qs u8[16]                      22 bytes
//   Q4_K 256 values: d f16 | dmin f16 | scales u8[12] (8 × 6-bit scale+min) | qs u8[128]          144 bytes
//   Q6_K 256 values: ql u8[128] | qh u8[64] | scales int8[16] | d f16                              210 bytes
import { floatToHalf, halfToFloat } from '../io/float16.ts'

const f = Math.fround

export type QuantType = 'Q8_0' | 'Q4_0' | 'Q5_0' | 'Q4_K' | 'Q6_K'

/** Values per block and bytes per block of each type. */
export const QUANT_BLOCK: Record<QuantType, { values: number; bytes: number }> = {
  Q8_0: { values: 32, bytes: 34 },
  Q4_0: { values: 32, bytes: 18 },
  Q5_0: { values: 32, bytes: 22 },
  Q4_K: { values: 256, bytes: 144 },
  Q6_K: { values: 256, bytes: 210 },
}

/** ggml's nearest_int: round half to even, of an f32 (the 1.5 · 2^23 trick). */
function nearestInt(value: number): number {
  return f(value + 12582912) - 12582912
}

/** C's (int) conversion of a float: toward zero. */
const truncate = Math.trunc

const GROUP_MAX_EPS = f(1e-15)
const TENTH = f(0.1)

function blocksOf(values: Float32Array, type: QuantType): { blocks: number; out: Uint8Array; view: DataView } {
  const { values: per, bytes } = QUANT_BLOCK[type]
  if (values.length % per !== 0) throw new Error(`${type} needs a multiple of ${per} values, got ${values.length}`)
  const blocks = values.length / per
  const out = new Uint8Array(blocks * bytes)
  return { blocks, out, view: new DataView(out.buffer) }
}

/** The value of largest magnitude (the first one, on ties), as ggml picks it. */
function signedAbsMax(x: Float32Array, start: number, n: number): number {
  let amax = 0
  let max = 0
  for (let j = 0; j < n; j++) {
    const v = x[start + j]
    if (amax < Math.abs(v)) {
      amax = Math.abs(v)
      max = v
    }
  }
  return max
}

/** Q8_0: d = absmax / 127, q = round(x / d) (C's roundf: halves away from zero). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const { blocks, out, view } = blocksOf(values, 'Q8_0')
  for (let b = 0; b < blocks; b++) {
    let amax = 0
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]))
    const d = f(amax / 127)
    const id = d ? f(1 / d) : 0
    view.setUint16(b * 34, floatToHalf(d), true)
    for (let j = 0; j < 32; j++) {
      const x = f(values[b * 32 + j] * id)
      view.setInt8(b * 34 + 2 + j, Math.sign(x) * Math.round(Math.abs(x)))
    }
  }
  return out
}

/** Q4_0: d = max / -8 (max the signed value of largest magnitude), q = min(15, (int)(x/d + 8.5)). */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const { blocks, out, view } = blocksOf(values, 'Q4_0')
  for (let b = 0; b < blocks; b++) {
    const x = b * 32
    const d = f(signedAbsMax(values, x, 32) / -8)
    const id = d ? f(1 / d) : 0
    view.setUint16(b * 18, floatToHalf(d), true)
    for (let j = 0; j < 16; j++) {
      const x0 = f(values[x + j] * id)
      const x1 = f(values[x + 16 + j] * id)
      const q0 = Math.min(15, truncate(f(x0 + 8.5)))
      const q1 = Math.min(15, truncate(f(x1 + 8.5)))
      out[b * 18 + 2 + j] = q0 | (q1 << 4)
    }
  }
  return out
}

/** Q5_0: d = max / -16, q = min(31, (int)(x/d + 16.5)), the fifth bits gathered in qh. */
export function quantizeQ5_0(values: Float32Array): Uint8Array {
  const { blocks, out, view } = blocksOf(values, 'Q5_0')
  for (let b = 0; b < blocks; b++) {
    const x = b * 32
    const d = f(signedAbsMax(values, x, 32) / -16)
    const id = d ? f(1 / d) : 0
    view.setUint16(b * 22, floatToHalf(d), true)
    let qh = 0
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(31, truncate(f(f(values[x + j] * id) + 16.5)))
      const q1 = Math.min(31, truncate(f(f(values[x + 16 + j] * id) + 16.5)))
      out[b * 22 + 6 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4)
      qh |= ((q0 & 0x10) >> 4) << j
      qh |= ((q1 & 0x10) >> 4) << (j + 16)
    }
    view.setUint32(b * 22 + 2, qh >>> 0, true)
  }
  return out
}

/**
 * make_qkx2_quants: the scale and (negated) minimum of an asymmetric nmax-level quantisation of
 * n weighted values, searched over nstep+1 candidate scales; L gets the levels.
 */
function makeQkx2Quants(n: number, nmax: number, x: Float32Array, weights: Float32Array, L: Uint8Array, rmin: number, rdelta: number, nstep: number): { scale: number; min: number } {
  const laux = new Uint8Array(n)
  let min = x[0]
  let max = x[0]
  let sumW = weights[0]
  let sumX = f(sumW * x[0])
  for (let i = 1; i < n; i++) {
    if (x[i] < min) min = x[i]
    if (x[i] > max) max = x[i]
    const w = weights[i]
    sumW = f(sumW + w)
    sumX = f(sumX + f(w * x[i]))
  }
  if (min > 0) min = 0
  if (max === min) {
    L.fill(0, 0, n)
    return { scale: 0, min: -min }
  }
  // min moves to each better candidate's, and later candidates are measured from it (as in C).
  let iscale = f(nmax / f(max - min))
  let scale = f(1 / iscale)
  let bestError = 0
  for (let i = 0; i < n; i++) {
    const l = nearestInt(f(iscale * f(x[i] - min)))
    L[i] = Math.max(0, Math.min(nmax, l))
    let diff = f(f(f(scale * L[i]) + min) - x[i])
    diff = f(diff * diff)
    bestError = f(bestError + f(weights[i] * diff))
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = f(f(f(rmin + f(rdelta * is)) + nmax) / f(max - min))
    let sumL = 0
    let sumL2 = 0
    let sumXL = 0
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, nearestInt(f(iscale * f(x[i] - min)))))
      laux[i] = l
      const wl = f(weights[i] * l)
      sumL = f(sumL + wl)
      sumL2 = f(sumL2 + f(wl * l))
      sumXL = f(sumXL + f(wl * x[i]))
    }
    const D = f(f(sumW * sumL2) - f(sumL * sumL))
    if (D > 0) {
      let thisScale = f(f(f(sumW * sumXL) - f(sumX * sumL)) / D)
      let thisMin = f(f(f(sumL2 * sumX) - f(sumL * sumXL)) / D)
      if (thisMin > 0) {
        thisMin = 0
        thisScale = f(sumXL / sumL2)
      }
      let curError = 0
      for (let i = 0; i < n; i++) {
        let diff = f(f(f(thisScale * laux[i]) + thisMin) - x[i])
        diff = f(diff * diff)
        curError = f(curError + f(weights[i] * diff))
      }
      if (curError < bestError) {
        L.set(laux.subarray(0, n))
        bestError = curError
        scale = thisScale
        min = thisMin
      }
    }
  }
  return { scale, min: -min }
}

/** get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes. */
function scaleMinK4(j: number, q: Uint8Array): [number, number] {
  if (j < 4) return [q[j] & 63, q[j + 4] & 63]
  return [(q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)]
}

/**
 * One Q4_K super-block: 256 values as eight 32-value sub-blocks
 * with their own scale and min (make_qkx2_quants weighted by rms + |x|), both quantised to 6 bits
 * against the super-block's f16 d and dmin; then every value re-quantised against those.
 */
function quantizeKSuperBlock(x: Float32Array, nmax: number, rmin: number, nstep: number, header: DataView, headerOffset: number, scalesOut: Uint8Array, L: Uint8Array): void {
  const scales = new Float32Array(8)
  const mins = new Float32Array(8)
  const weights = new Float32Array(32)
  let maxScale = 0
  let maxMin = 0
  for (let j = 0; j < 8; j++) {
    const sub = x.subarray(32 * j, 32 * j + 32)
    let sumX2 = 0
    for (let l = 0; l < 32; l++) sumX2 = f(sumX2 + f(sub[l] * sub[l]))
    const avX = f(Math.sqrt(f(sumX2 / 32)))
    for (let l = 0; l < 32; l++) weights[l] = f(avX + Math.abs(sub[l]))
    const { scale, min } = makeQkx2Quants(32, nmax, sub, weights, L.subarray(32 * j, 32 * j + 32), rmin, TENTH, nstep)
    scales[j] = scale
    mins[j] = min
    if (scale > maxScale) maxScale = scale
    if (min > maxMin) maxMin = min
  }
  const invScale = maxScale > 0 ? f(63 / maxScale) : 0
  const invMin = maxMin > 0 ? f(63 / maxMin) : 0
  scalesOut.fill(0)
  for (let j = 0; j < 8; j++) {
    // uint8_t ls = nearest_int(...): the conversion wraps before MIN(63, ·).
    const ls = Math.min(63, nearestInt(f(invScale * scales[j])) & 0xff)
    const lm = Math.min(63, nearestInt(f(invMin * mins[j])) & 0xff)
    if (j < 4) {
      scalesOut[j] = ls
      scalesOut[j + 4] = lm
    } else {
      scalesOut[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4)
      scalesOut[j - 4] |= (ls >> 4) << 6
      scalesOut[j] |= (lm >> 4) << 6
    }
  }
  const dBits = floatToHalf(f(maxScale / 63))
  const dminBits = floatToHalf(f(maxMin / 63))
  header.setUint16(headerOffset, dBits, true)
  header.setUint16(headerOffset + 2, dminBits, true)
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMinK4(j, scalesOut)
    const d = f(halfToFloat(dBits) * sc)
    if (!d) continue
    const dm = f(halfToFloat(dminBits) * m)
    for (let ii = 0; ii < 32; ii++) {
      const l = nearestInt(f(f(x[32 * j + ii] + dm) / d))
      L[32 * j + ii] = Math.max(0, Math.min(nmax, l))
    }
  }
}

/** Q4_K: 4-bit levels; qs holds values j and j+32 of each 64 in one byte's low and high nibble. */
export function quantizeQ4_K(values: Float32Array): Uint8Array {
  const { blocks, out, view } = blocksOf(values, 'Q4_K')
  const L = new Uint8Array(256)
  for (let b = 0; b < blocks; b++) {
    const base = b * 144
    quantizeKSuperBlock(values.subarray(b * 256, b * 256 + 256), 15, -1, 20, view, base, out.subarray(base + 4, base + 16), L)
    const q = out.subarray(base + 16, base + 144)
    for (let j = 0, o = 0; j < 256; j += 64, o += 32) for (let l = 0; l < 32; l++) q[o + l] = L[j + l] | (L[j + l + 32] << 4)
  }
  return out
}

/**
 * make_qx_quants with rmse_type 1: a symmetric scale for n values (levels -nmax … nmax-1, stored
 * +nmax in L), the best of 19 candidates by x²-weighted least squares.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, L: Uint8Array): number {
  let max = 0
  let amax = 0
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[i])
    if (ax > amax) {
      amax = ax
      max = x[i]
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, 0, n)
    return 0
  }
  const clamp = (l: number) => Math.max(-nmax, Math.min(nmax - 1, l))
  let iscale = f(-nmax / max)
  let sumlx = 0
  let suml2 = 0
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(f(iscale * x[i])))
    L[i] = l + nmax
    const w = f(x[i] * x[i])
    sumlx = f(sumlx + f(f(w * x[i]) * l))
    suml2 = f(suml2 + f(f(w * l) * l))
  }
  let scale = suml2 ? f(sumlx / suml2) : 0
  let best = f(scale * sumlx)
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue
    iscale = f(-f(nmax + f(TENTH * is)) / max)
    sumlx = 0
    suml2 = 0
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(f(iscale * x[i])))
      const w = f(x[i] * x[i])
      sumlx = f(sumlx + f(f(w * x[i]) * l))
      suml2 = f(suml2 + f(f(w * l) * l))
    }
    if (suml2 > 0 && f(sumlx * sumlx) > f(best * suml2)) {
      for (let i = 0; i < n; i++) L[i] = nmax + clamp(nearestInt(f(iscale * x[i])))
      scale = f(sumlx / suml2)
      best = f(scale * sumlx)
    }
  }
  return scale
}

/** Q6_K: sixteen 16-value sub-blocks with int8 scales against one f16 d; 6-bit levels as 4 + 2 bits. */
export function quantizeQ6_K(values: Float32Array): Uint8Array {
  const { blocks, out, view } = blocksOf(values, 'Q6_K')
  const L = new Uint8Array(256)
  const scales = new Float32Array(16)
  for (let b = 0; b < blocks; b++) {
    const x = values.subarray(b * 256, b * 256 + 256)
    const base = b * 210
    let maxScale = 0
    let maxAbsScale = 0
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, x.subarray(16 * ib, 16 * ib + 16), L.subarray(16 * ib, 16 * ib + 16))
      scales[ib] = scale
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale)
        maxScale = scale
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue // an all-zero block: every byte 0, d = 0
    const iscale = f(-128 / maxScale)
    const dBits = floatToHalf(f(1 / iscale))
    view.setUint16(base + 208, dBits, true)
    for (let ib = 0; ib < 16; ib++) view.setInt8(base + 192 + ib, Math.min(127, nearestInt(f(iscale * scales[ib]))))
    for (let j = 0; j < 16; j++) {
      const d = f(halfToFloat(dBits) * view.getInt8(base + 192 + j))
      if (!d) continue
      for (let ii = 0; ii < 16; ii++) {
        const l = Math.max(-32, Math.min(31, nearestInt(f(x[16 * j + ii] / d))))
        L[16 * j + ii] = l + 32
      }
    }
    const ql = out.subarray(base, base + 128)
    const qh = out.subarray(base + 128, base + 192)
    for (let j = 0, lo = 0, ho = 0; j < 256; j += 128, lo += 64, ho += 32) {
      for (let l = 0; l < 32; l++) {
        const q1 = L[j + l] & 0xf
        const q2 = L[j + l + 32] & 0xf
        const q3 = L[j + l + 64] & 0xf
        const q4 = L[j + l + 96] & 0xf
        ql[lo + l] = q1 | (q3 << 4)
        ql[lo + l + 32] = q2 | (q4 << 4)
        qh[ho + l] = (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6)
      }
    }
  }
  return out
}

export const QUANTIZE: Record<QuantType, (values: Float32Array) => Uint8Array> = {
  Q8_0: quantizeQ8_0,
  Q4_0: quantizeQ4_0,
  Q5_0: quantizeQ5_0,
  Q4_K: quantizeQ4_K,
  Q6_K: quantizeQ6_K,
}

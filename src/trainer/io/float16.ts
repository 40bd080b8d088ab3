// IEEE half precision <-> f32, shared by the safetensors reader/writer and the GGUF writer.

/** Every one of the 65536 half-precision bit patterns, widened to f32 once. */
const HALF_TO_FLOAT = buildHalfTable()

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1
    const exponent = (h >> 10) & 0x1f
    const mantissa = h & 0x3ff
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24 // subnormal (and ±0)
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
  }
  return table
}

export function halfToFloat(bits: number): number {
  return HALF_TO_FLOAT[bits & 0xffff]
}

/** Widens half-precision bit patterns to f32 through the lookup table. */
export function halvesToFloats(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length)
  for (let i = 0; i < halves.length; i++) out[i] = HALF_TO_FLOAT[halves[i]]
  return out
}

/** bfloat16 is the top half of an f32: widen by a 16-bit shift. */
export function bfloat16sToFloats(bf16: Uint16Array): Float32Array {
  const bits = new Uint32Array(bf16.length)
  for (let i = 0; i < bf16.length; i++) bits[i] = bf16[i] << 16
  return new Float32Array(bits.buffer)
}

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** f32 -> half bits, round-to-nearest-even (what numpy's astype(float16) and ggml do). */
export function floatToHalf(value: number): number {
  f32[0] = value
  const x = u32[0]
  const sign = (x >>> 16) & 0x8000
  const exponent = (x >>> 23) & 0xff
  let mantissa = x & 0x7fffff
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0) // Inf / NaN
  const e = exponent - 127 + 15
  if (e >= 31) return sign | 0x7c00 // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign // underflow -> ±0
    mantissa |= 0x800000 // make the implicit bit explicit, then shift into a subnormal
    const shift = 14 - e
    const half = mantissa >>> shift
    const rest = mantissa & ((1 << shift) - 1)
    const midpoint = 1 << (shift - 1)
    const roundUp = rest > midpoint || (rest === midpoint && (half & 1) === 1)
    return sign | (half + (roundUp ? 1 : 0))
  }
  const half = (e << 10) | (mantissa >>> 13)
  const rest = mantissa & 0x1fff
  const roundUp = rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)
  // A carry out of the mantissa correctly bumps the exponent (and reaches Inf at the top).
  return sign | (half + (roundUp ? 1 : 0))
}

export function floatsToHalves(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i])
  return out
}

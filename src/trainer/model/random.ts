// A small seeded random number generator whose whole state fits in a checkpoint.
//
// xoshiro128** (Blackman & Vigna): four 32-bit words of state, fast, good statistical quality.
// Everything random in training — LoRA initialisation, data order, dropout seeds — draws from
// one of these, so a run is reproducible from its seed and resumable from its saved state.

export type RandomState = [number, number, number, number]

/** splitmix32: spreads a user seed over the four state words (and never yields all zeros). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class Random {
  private s: Uint32Array

  private constructor(state: RandomState) {
    this.s = Uint32Array.from(state)
  }

  static fromSeed(seed: number): Random {
    const next = splitmix32(seed)
    return new Random([next(), next(), next(), next()])
  }

  static fromState(state: RandomState): Random {
    return new Random(state)
  }

  state(): RandomState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]]
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0
    const t = (s[1] << 9) >>> 0
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next()
  }

  /** Fisher–Yates shuffle of 0..n-1. */
  permutation(n: number): number[] {
    const order = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = order[i]
      order[i] = order[j]
      order[j] = tmp
    }
    return order
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

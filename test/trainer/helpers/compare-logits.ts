// Small helpers for comparing logits from two implementations, position by position.

export function argmax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i
  return best
}

export interface LogitComparison {
  maxAbsDiff: number
  /** Positions where both pick the same most likely next token. */
  argmaxAgreement: number
  positions: number
}

export function compareLogits(actual: ArrayLike<number>[], expected: ArrayLike<number>[]): LogitComparison {
  if (actual.length !== expected.length) throw new Error(`positions differ: ${actual.length} vs ${expected.length}`)
  let maxAbsDiff = 0
  let argmaxAgreement = 0
  actual.forEach((row, t) => {
    if (row.length !== expected[t].length) throw new Error(`vocab differs at ${t}: ${row.length} vs ${expected[t].length}`)
    for (let i = 0; i < row.length; i++) {
      const diff = Math.abs(row[i] - expected[t][i])
      // NaN (a missing logit) must fail the comparison, not vanish in Math.max.
      maxAbsDiff = Number.isNaN(diff) ? Infinity : Math.max(maxAbsDiff, diff)
    }
    if (argmax(row) === argmax(expected[t])) argmaxAgreement++
  })
  return { maxAbsDiff, argmaxAgreement, positions: actual.length }
}

/** A fixed spread of token ids over the vocabulary (deterministic, no special structure). */
export function sampleTokens(count: number, vocabSize: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 131 + 17) % vocabSize)
}

/**
 * Positions where the two disagree on the most likely token although the expected logits have a
 * clear winner (top-two gap above `margin`). Near-ties may legitimately flip under rounding.
 */
export function decisiveArgmaxMismatches(actual: ArrayLike<number>[], expected: ArrayLike<number>[], margin: number): number[] {
  const out: number[] = []
  expected.forEach((row, t) => {
    const best = argmax(row)
    let second = -Infinity
    for (let i = 0; i < row.length; i++) if (i !== best) second = Math.max(second, row[i])
    if (row[best] - second > margin && argmax(actual[t]) !== best) out.push(t)
  })
  return out
}

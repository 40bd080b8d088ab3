// fuzzy_match: the normalised Indel similarity of the two strings (rapidfuzz's / TheFuzz's
// `fuzz.ratio` divided by 100): 1 − (insertions + deletions to turn one into the other) / (total
// length), over Unicode code points. Two empty strings match fully.
import { lcsLength } from './tokens.ts'

export function fuzzyMatch(input: string, reference: string): number {
  const a = Array.from(input)
  const b = Array.from(reference)
  const total = a.length + b.length
  if (total === 0) return 1
  return (2 * lcsLength(a, b)) / total
}

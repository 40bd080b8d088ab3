// meteor: METEOR (Banerjee & Lavie 2005) as NLTK's `meteor_score` computes it, with exact word
// matches only — NLTK's stemming and WordNet synonym stages are not applied: words are lowercased
// and split on whitespace, aligned greedily from the end as NLTK aligns them, and scored
// (1 − 0.5·(chunks/matches)³) · P·R / (0.9·P + 0.1·R).
import { whitespaceTokens } from './tokens.ts'

const ALPHA = 0.9
const BETA = 3
const GAMMA = 0.5

/** NLTK's _match_enums: for each input word from the last, the last unmatched equal reference word. */
function align(hyp: string[], ref: string[]): [number, number][] {
  const h = hyp.map((w, i) => [i, w] as const)
  const r = ref.map((w, i) => [i, w] as const)
  const matches: [number, number][] = []
  for (let i = h.length - 1; i >= 0; i--) {
    for (let j = r.length - 1; j >= 0; j--) {
      if (h[i][1] === r[j][1]) {
        matches.push([h[i][0], r[j][0]])
        h.splice(i, 1)
        r.splice(j, 1)
        break
      }
    }
  }
  return matches.sort((a, b) => a[0] - b[0])
}

function chunks(matches: [number, number][]): number {
  let n = 1
  for (let i = 0; i < matches.length - 1; i++) {
    if (!(matches[i + 1][0] === matches[i][0] + 1 && matches[i + 1][1] === matches[i][1] + 1)) n += 1
  }
  return n
}

export function meteor(input: string, reference: string): number {
  const hyp = whitespaceTokens(input.toLowerCase())
  const ref = whitespaceTokens(reference.toLowerCase())
  const matches = align(hyp, ref)
  if (matches.length === 0 || hyp.length === 0 || ref.length === 0) return 0
  const precision = matches.length / hyp.length
  const recall = matches.length / ref.length
  const fmean = (precision * recall) / (ALPHA * precision + (1 - ALPHA) * recall)
  const penalty = GAMMA * (chunks(matches) / matches.length) ** BETA
  return (1 - penalty) * fmean
}

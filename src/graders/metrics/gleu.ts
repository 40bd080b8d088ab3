// gleu: Google-BLEU of the input against the reference as NLTK's `sentence_gleu` computes it (Wu et
// al. 2016): over all 1- to 4-grams, matches / max(input n-grams, reference n-grams) — the smaller
// of n-gram precision and recall. Words are split on whitespace.
import { ngramCounts, overlap, whitespaceTokens } from './tokens.ts'

export function gleu(input: string, reference: string, minOrder = 1, maxOrder = 4): number {
  const hyp = whitespaceTokens(input)
  const ref = whitespaceTokens(reference)
  let matches = 0
  let hypTotal = 0
  let refTotal = 0
  for (let n = minOrder; n <= maxOrder; n++) {
    const h = ngramCounts(hyp, n)
    const r = ngramCounts(ref, n)
    matches += overlap(h, r)
    hypTotal += Math.max(0, hyp.length - n + 1)
    refTotal += Math.max(0, ref.length - n + 1)
  }
  const denominator = Math.max(hypTotal, refTotal)
  return denominator === 0 ? 0 : matches / denominator
}

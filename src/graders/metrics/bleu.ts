// bleu: sentence BLEU of the input against the reference as NLTK's `sentence_bleu` computes it
// (Papineni et al. 2002): uniform weights over 1- to 4-gram clipped precisions, the brevity penalty
// exp(1 − r/c) when the input is shorter, and no smoothing — an n-gram order without a match makes
// the score 0. Words are split on whitespace.
import { ngramCounts, overlap, whitespaceTokens } from './tokens.ts'

export function bleu(input: string, reference: string, maxOrder = 4): number {
  const hyp = whitespaceTokens(input)
  const ref = whitespaceTokens(reference)
  if (hyp.length === 0) return 0
  let logSum = 0
  for (let n = 1; n <= maxOrder; n++) {
    const hypGrams = ngramCounts(hyp, n)
    const total = Math.max(1, hyp.length - n + 1)
    const matched = overlap(hypGrams, ngramCounts(ref, n))
    if (matched === 0) return 0
    logSum += Math.log(matched / total) / maxOrder
  }
  const brevity = hyp.length > ref.length ? 1 : Math.exp(1 - ref.length / hyp.length)
  return brevity * Math.exp(logSum)
}

// rouge_1 … rouge_5 and rouge_l: the F-measure of ROUGE-N (clipped n-gram overlap) and ROUGE-L
// (longest common subsequence) as Google's rouge-score package computes them (Lin 2004), with its
// tokeniser (lowercase; anything but [a-z0-9] separates words) and no stemming.
import { lcsLength, ngramCounts, overlap, rougeTokens } from './tokens.ts'

function fmeasure(matched: number, inputTotal: number, referenceTotal: number): number {
  const precision = inputTotal > 0 ? matched / inputTotal : 0
  const recall = referenceTotal > 0 ? matched / referenceTotal : 0
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
}

export function rougeN(input: string, reference: string, n: number): number {
  const hyp = ngramCounts(rougeTokens(input), n)
  const ref = ngramCounts(rougeTokens(reference), n)
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  return fmeasure(overlap(hyp, ref), total(hyp), total(ref))
}

export function rougeL(input: string, reference: string): number {
  const hyp = rougeTokens(input)
  const ref = rougeTokens(reference)
  return fmeasure(lcsLength(hyp, ref), hyp.length, ref.length)
}

// text_similarity: the rendered input scored against the rendered reference by one metric, 0 … 1.
// `cosine` needs an embeddings model, which Skillet does not have: refused (see grader-errors.ts).
import { bleu } from './metrics/bleu.ts'
import { fuzzyMatch } from './metrics/fuzzy-match.ts'
import { gleu } from './metrics/gleu.ts'
import { meteor } from './metrics/meteor.ts'
import { rougeL, rougeN } from './metrics/rouge.ts'

export const TEXT_SIMILARITY_METRICS = ['fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'] as const
export type TextSimilarityMetric = (typeof TEXT_SIMILARITY_METRICS)[number]

export function isTextSimilarityMetric(metric: string): metric is TextSimilarityMetric {
  return (TEXT_SIMILARITY_METRICS as readonly string[]).includes(metric)
}

export function textSimilarity(input: string, reference: string, metric: TextSimilarityMetric): number {
  switch (metric) {
    case 'fuzzy_match':
      return fuzzyMatch(input, reference)
    case 'bleu':
      return bleu(input, reference)
    case 'gleu':
      return gleu(input, reference)
    case 'meteor':
      return meteor(input, reference)
    case 'rouge_l':
      return rougeL(input, reference)
    default:
      return rougeN(input, reference, Number(metric.slice('rouge_'.length)))
  }
}

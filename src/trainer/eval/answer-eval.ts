// The answer evaluation of a checkpoint: the model as trained so far answers each example's prompt
// greedily (prompts of one length batched together, so no padding changes an answer; as many rows as
// the training batch's tokens allow, up to 64), each answer
// is cut at a stop token (EOS, or any special token: they end a turn) and scored against the
// reference by every chosen grader (src/graders/answer-score.ts), with surrounding whitespace
// trimmed from both. The metrics are the graders' mean scores, named as answerMetricName says.
import { scoreAnswer } from '../../graders/answer-score.ts'
import { answerMetricName, type AnswerGrader } from '../../protocol/answer-eval-settings.ts'
import { greedyGenerate } from '../model/generate.ts'
import type { LoraAdapters } from '../model/lora.ts'
import type { ModelWeights } from '../model/weights.ts'
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import type { AnswerExample } from './answer-examples.ts'

/** The most prompts answered at once. */
const MAX_BATCH_ROWS = 64

export interface AnswerEvalOptions {
  graders: readonly AnswerGrader[]
  jsonSchema?: Record<string, unknown>
  /** The most tokens an answer may have. */
  maxNewTokens: number
  /** Tokens (prompt + answer, summed over a batch's rows) generated at once: bounds memory; at most 64 rows. */
  batchTokens: number
  /** Token ids that end an answer. */
  stopIds: readonly number[]
}

export interface AnswerEvalResult {
  /** Mean score per grader, e.g. { eval_exact_match: 0.93, eval_fuzzy_match: 0.98 }. */
  metrics: Record<string, number>
  /** Examples answered and scored. */
  examples: number
  /** Examples left out: the prompt leaves no room for an answer in the model's context. */
  skipped: number
  /** The first example's answer and reference, for the event. */
  sample: { answer: string; reference: string } | null
}

/**
 * An answer runs at most `maxNewTokens`, and at most its reference's length · 1.25 + 8 tokens (it
 * cannot match exactly by then; this bounds the cost of a model that never stops), within the context.
 */
export function answerTokenLimit(example: AnswerExample, maxNewTokens: number, maxPositions: number): number {
  return Math.min(maxNewTokens, Math.ceil(1.25 * example.referenceTokens) + 8, maxPositions - example.prompt.length)
}

/** The scores of answers against references, pure: the mean of each grader over the pairs. */
export function scoreAnswers(pairs: { answer: string; reference: string }[], graders: readonly AnswerGrader[], jsonSchema?: Record<string, unknown>): Record<string, number> {
  const metrics: Record<string, number> = {}
  for (const grader of graders) {
    const total = pairs.reduce((sum, p) => sum + scoreAnswer(grader, p.answer.trim(), p.reference.trim(), jsonSchema), 0)
    metrics[answerMetricName(grader)] = pairs.length ? total / pairs.length : 0
  }
  return metrics
}

export async function evaluateAnswers(weights: ModelWeights, lora: LoraAdapters | null, tokenizer: TextTokenizer, examples: AnswerExample[], options: AnswerEvalOptions): Promise<AnswerEvalResult> {
  const maxPositions = weights.config.maxPositions
  const fits = examples.filter((e) => answerTokenLimit(e, options.maxNewTokens, maxPositions) >= 1)
  const byLength = new Map<number, AnswerExample[]>()
  for (const e of fits) byLength.set(e.prompt.length, [...(byLength.get(e.prompt.length) ?? []), e])
  const answers = new Map<AnswerExample, string>()
  for (const group of byLength.values()) {
    const rowTokens = group[0].prompt.length + answerTokenLimit(group[0], options.maxNewTokens, maxPositions)
    const rows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(options.batchTokens / rowTokens)))
    for (let i = 0; i < group.length; i += rows) {
      const batch = group.slice(i, i + rows)
      const limit = Math.max(...batch.map((e) => answerTokenLimit(e, options.maxNewTokens, maxPositions)))
      const out = await greedyGenerate(weights, lora, batch.map((e) => e.prompt), { maxNewTokens: limit, eosId: null, stopIds: options.stopIds })
      batch.forEach((e, b) => {
        const own = out[b].slice(0, answerTokenLimit(e, options.maxNewTokens, maxPositions))
        answers.set(e, tokenizer.decode(own, { skipSpecialTokens: true }))
      })
    }
  }
  const pairs = fits.map((e) => ({ answer: answers.get(e)!, reference: e.reference }))
  return { metrics: scoreAnswers(pairs, options.graders, options.jsonSchema), examples: pairs.length, skipped: examples.length - fits.length, sample: pairs[0] ?? null }
}

/** Token ids that end an answer: EOS and every special token of the tokenizer. */
export function answerStopIds(tokenizer: TextTokenizer, tokenizerJson: Record<string, unknown>): number[] {
  const ids = new Set<number>()
  if (tokenizer.eosTokenId !== null) ids.add(tokenizer.eosTokenId)
  const added = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as { id?: unknown; special?: unknown }[]) : []
  for (const t of added) if (t.special === true && typeof t.id === 'number') ids.add(t.id)
  return [...ids]
}

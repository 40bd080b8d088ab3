// The token loop every embedded generation runs: sample from a llama.cpp sequence with the
// request's settings (grammar included), decode text across multi-byte tokens, cut at stop
// sequences, collect logprobs, and stop at end-of-generation, the token limit or an abort.
import type { LlamaContextSequence, LlamaGrammarEvaluationState, LlamaModel, Token } from 'node-llama-cpp'
import type { TokenLogprob } from '../schemas/chat-completions.ts'
import { StopMatcher } from './stop-matcher.ts'

export interface SamplingSettings {
  maxTokens: number
  temperature: number
  topP: number
  seed: number | undefined
  frequencyPenalty: number
  presencePenalty: number
  stop: string[]
  /** Top alternatives per token to report; null: no logprobs at all. */
  topLogprobs: number | null
  grammar: LlamaGrammarEvaluationState | undefined
}

export type TokenLoopEvent = { type: 'text'; text: string; logprobs?: TokenLogprob[] }
export interface TokenLoopEnd {
  finishReason: 'stop' | 'length'
  completionTokens: number
}

/** OpenAI reports a probability of (about) zero as -9999. */
const logOf = (p: number | undefined) => (p === undefined || p <= 0 ? -9999 : Math.max(-9999, Math.log(p)))
const bytesOf = (text: string) => [...Buffer.from(text, 'utf8')]

export async function* generateTokens(model: LlamaModel, sequence: LlamaContextSequence, prompt: Token[], s: SamplingSettings, signal: AbortSignal): AsyncGenerator<TokenLoopEvent, TokenLoopEnd> {
  const generated: Token[] = []
  const stops = new StopMatcher(s.stop)
  let pending: Token[] = [] // tokens whose text is an unfinished UTF-8 sequence
  let pendingLogprobs: TokenLogprob[] = []
  let finishReason: 'stop' | 'length' = 'length'
  const penalise = s.frequencyPenalty !== 0 || s.presencePenalty !== 0
  const wantLogprobs = s.topLogprobs !== null
  if (s.maxTokens <= 0) return { finishReason, completionTokens: 0 }

  const tokens = sequence.evaluateWithMetadata(prompt, { probabilities: wantLogprobs }, {
    temperature: s.temperature,
    topP: s.topP,
    topK: 0,
    minP: 0,
    seed: s.seed,
    grammarEvaluationState: s.grammar,
    repeatPenalty: penalise ? { punishTokens: () => generated, maxPunishTokens: 256, penalty: 1, frequencyPenalty: s.frequencyPenalty, presencePenalty: s.presencePenalty } : undefined,
    yieldEogToken: true,
  })
  try {
    for await (const result of tokens) {
      if (signal.aborted) break
      const token = result.token
      generated.push(token)
      if (model.isEogToken(token)) {
        finishReason = 'stop'
        break
      }
      if (wantLogprobs) {
        const probabilities = (result as { probabilities?: Map<Token, number> }).probabilities ?? new Map<Token, number>()
        const text = model.detokenize([token], true)
        const top: TokenLogprob['top_logprobs'] = []
        for (const [t, p] of probabilities) {
          if (top.length >= (s.topLogprobs ?? 0)) break
          const tt = model.detokenize([t], true)
          top.push({ token: tt, logprob: logOf(p), bytes: bytesOf(tt) })
        }
        pendingLogprobs.push({ token: text, logprob: logOf(probabilities.get(token)), bytes: bytesOf(text), top_logprobs: top })
      }
      pending.push(token)
      const text = model.detokenize(pending, false, generated.slice(-pending.length - 4, -pending.length))
      if (text.endsWith('\uFFFD') && pending.length < 4) {
        if (generated.length >= s.maxTokens) break
        continue
      }
      pending = []
      const shown = stops.push(text)
      if (shown !== '' || pendingLogprobs.length > 0) yield { type: 'text', text: shown, ...(wantLogprobs ? { logprobs: pendingLogprobs } : {}) }
      pendingLogprobs = []
      if (stops.stopped) {
        finishReason = 'stop'
        break
      }
      if (generated.length >= s.maxTokens) break
    }
  } finally {
    await tokens.return(undefined)
  }
  // Tokens still waiting for the rest of a UTF-8 sequence when generation ended: shown as they are.
  if (pending.length > 0 && !stops.stopped) {
    const shown = stops.push(model.detokenize(pending, false))
    if (shown !== '' || pendingLogprobs.length > 0) yield { type: 'text', text: shown, ...(wantLogprobs ? { logprobs: pendingLogprobs } : {}) }
  }
  const rest = stops.flush()
  if (rest !== '') yield { type: 'text', text: rest }
  return { finishReason, completionTokens: generated.length }
}

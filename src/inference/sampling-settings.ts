// A request's sampling parameters with OpenAI's defaults (temperature 1, top_p 1, no penalties),
// and the token budget left by the prompt in the model's context.
import type { ChatCompletionRequest } from '../schemas/chat-completions.ts'
import type { CompletionRequest } from '../schemas/completions.ts'
import type { SamplingSettings } from './generate-tokens.ts'

export function samplingSettings(request: ChatCompletionRequest | CompletionRequest, budget: { contextSize: number; promptTokens: number }, topLogprobs: number | null): Omit<SamplingSettings, 'grammar'> {
  const asked = ('max_completion_tokens' in request ? request.max_completion_tokens : undefined) ?? request.max_tokens ?? null
  const left = budget.contextSize - budget.promptTokens
  const stop = request.stop === undefined || request.stop === null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop
  return {
    maxTokens: asked === null ? left : Math.min(asked, left),
    temperature: request.temperature ?? 1,
    topP: request.top_p ?? 1,
    seed: request.seed ?? undefined,
    frequencyPenalty: request.frequency_penalty ?? 0,
    presencePenalty: request.presence_penalty ?? 0,
    stop,
    topLogprobs,
  }
}

// Generation events → OpenAI's chat.completion object, or its chat.completion.chunk stream
// (role first, then content deltas, tool calls, the finish reason, and usage last on request).
import type { ChatCompletion, ChatCompletionChunk, TokenLogprob } from '../schemas/chat-completions.ts'
import type { GenerationEvent } from './engine.ts'

export interface CompletionIdentity {
  id: string
  created: number
  model: string
}

type Done = Extract<GenerationEvent, { type: 'done' }>
export const usageOf = (d: Done) => ({ prompt_tokens: d.promptTokens, completion_tokens: d.completionTokens, total_tokens: d.promptTokens + d.completionTokens })

export async function collectChatCompletion(who: CompletionIdentity, events: AsyncIterable<GenerationEvent>, withLogprobs: boolean): Promise<ChatCompletion> {
  let content = ''
  const logprobs: TokenLogprob[] = []
  const toolCalls: NonNullable<ChatCompletion['choices'][number]['message']['tool_calls']> = []
  let done: Done | undefined
  for await (const e of events) {
    if (e.type === 'text') {
      content += e.text
      if (e.logprobs) logprobs.push(...e.logprobs)
    } else if (e.type === 'tool_call') toolCalls.push({ id: e.id, type: 'function', function: { name: e.name, arguments: e.arguments } })
    else done = e
  }
  if (!done) throw new Error('generation ended without a done event')
  return {
    id: who.id,
    object: 'chat.completion',
    created: who.created,
    model: who.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: toolCalls.length > 0 && content === '' ? null : content, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
        logprobs: withLogprobs ? { content: logprobs, refusal: null } : null,
        finish_reason: done.finishReason,
      },
    ],
    usage: usageOf(done),
  }
}

/** The chunks of a streamed answer, in order; the usage chunk (empty choices) only when asked for. */
export async function* chatCompletionChunks(who: CompletionIdentity, events: AsyncIterable<GenerationEvent>, opts: { withLogprobs: boolean; includeUsage: boolean }): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (choice: ChatCompletionChunk['choices'][number]): ChatCompletionChunk => ({ id: who.id, object: 'chat.completion.chunk', created: who.created, model: who.model, choices: [choice] })
  yield chunk({ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null })
  let toolIndex = 0
  for await (const e of events) {
    if (e.type === 'text') {
      if (e.text === '' && !e.logprobs?.length) continue
      yield chunk({ index: 0, delta: { content: e.text }, logprobs: opts.withLogprobs ? { content: e.logprobs ?? [], refusal: null } : null, finish_reason: null })
    } else if (e.type === 'tool_call') {
      yield chunk({ index: 0, delta: { tool_calls: [{ index: toolIndex++, id: e.id, type: 'function', function: { name: e.name, arguments: e.arguments } }] }, logprobs: null, finish_reason: null })
    } else {
      yield chunk({ index: 0, delta: {}, logprobs: null, finish_reason: e.finishReason })
      if (opts.includeUsage) yield { id: who.id, object: 'chat.completion.chunk', created: who.created, model: who.model, choices: [], usage: usageOf(e) }
    }
  }
}

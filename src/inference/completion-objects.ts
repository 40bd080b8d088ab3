// Generation events → OpenAI's text_completion object, or its stream of text_completion chunks.
import type { TokenLogprob } from '../schemas/chat-completions.ts'
import type { CompletionLogprobs, TextCompletion } from '../schemas/completions.ts'
import { usageOf, type CompletionIdentity } from './chat-completion-objects.ts'
import type { GenerationEvent } from './engine.ts'

type Done = Extract<GenerationEvent, { type: 'done' }>

/** The legacy logprobs shape: parallel arrays, top alternatives as {token: logprob}, offsets into the text. */
function legacyLogprobs(tokens: TokenLogprob[], startOffset: number): CompletionLogprobs {
  let offset = startOffset
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] }
  for (const t of tokens) {
    out.tokens.push(t.token)
    out.token_logprobs.push(t.logprob)
    out.top_logprobs.push(Object.fromEntries(t.top_logprobs.map((a) => [a.token, a.logprob])))
    out.text_offset.push(offset)
    offset += t.token.length
  }
  return out
}

export async function collectTextCompletion(who: CompletionIdentity, events: AsyncIterable<GenerationEvent>, withLogprobs: boolean): Promise<TextCompletion> {
  let text = ''
  const logprobs: TokenLogprob[] = []
  let done: Done | undefined
  for await (const e of events) {
    if (e.type === 'text') {
      text += e.text
      if (e.logprobs) logprobs.push(...e.logprobs)
    } else if (e.type === 'done') done = e
  }
  if (!done) throw new Error('generation ended without a done event')
  const finish = done.finishReason === 'length' ? 'length' : 'stop'
  return {
    id: who.id,
    object: 'text_completion',
    created: who.created,
    model: who.model,
    choices: [{ index: 0, text, logprobs: withLogprobs ? legacyLogprobs(logprobs, 0) : null, finish_reason: finish }],
    usage: usageOf(done),
  }
}

export interface TextCompletionChunk {
  id: string
  object: 'text_completion'
  created: number
  model: string
  choices: { index: number; text: string; logprobs: CompletionLogprobs | null; finish_reason: 'stop' | 'length' | null }[]
  usage?: ReturnType<typeof usageOf> | null
}

export async function* textCompletionChunks(who: CompletionIdentity, events: AsyncIterable<GenerationEvent>, opts: { withLogprobs: boolean; includeUsage: boolean }): AsyncGenerator<TextCompletionChunk> {
  const base = { id: who.id, object: 'text_completion' as const, created: who.created, model: who.model }
  let offset = 0
  for await (const e of events) {
    if (e.type === 'text') {
      if (e.text === '' && !e.logprobs?.length) continue
      yield { ...base, choices: [{ index: 0, text: e.text, logprobs: opts.withLogprobs ? legacyLogprobs(e.logprobs ?? [], offset) : null, finish_reason: null }] }
      offset += e.text.length
    } else if (e.type === 'done') {
      yield { ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: e.finishReason === 'length' ? 'length' : 'stop' }] }
      if (opts.includeUsage) yield { ...base, choices: [], usage: usageOf(e) }
    }
  }
}

// The examples the answer evaluation scores: from validation JSONL rows, the prompt a model answers
// (a chat conversation before its last assistant message, with the generation prompt; a
// prompt/completion's prompt; a preference pair's input) and the reference answer (that assistant
// message's text; the completion; the preferred output's last assistant message). Rows whose
// reference has no text (a tool call only) are left out. Pure, given a tokenizer.
import { toTemplateMessage } from '../data/encode-examples.ts'
import type { ChatExample, ChatMessage, CompletionExample, PreferenceExample } from '../data/example-types.ts'
import type { JsonlRow } from '../run/training-set.ts'
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts'

export interface AnswerExample {
  /** Token ids the model continues. */
  prompt: number[]
  /** The answer it should give. */
  reference: string
  /** The reference's length in tokens (bounds how long an answer may run). */
  referenceTokens: number
}

const textOf = (m: ChatMessage | undefined): string | null => {
  if (!m) return null
  const t = toTemplateMessage(m).content
  return typeof t === 'string' && t !== '' ? t : null
}

function chatPrompt(tokenizer: TextTokenizer, messages: ChatMessage[], tools: unknown[] | undefined, reference: ChatMessage | undefined): AnswerExample | null {
  const text = textOf(reference)
  if (text === null) return null
  const prompt = tokenizer.encodeChat(messages.map(toTemplateMessage), { tools, addGenerationPrompt: true })
  return { prompt, reference: text, referenceTokens: tokenizer.encode(text, { addSpecialTokens: false }).length }
}

function answerExample(tokenizer: TextTokenizer, row: JsonlRow): AnswerExample | null {
  if ('messages' in row) {
    const { messages, tools } = row as unknown as ChatExample
    const last = messages.findLastIndex((m) => m.role === 'assistant')
    return last < 0 ? null : chatPrompt(tokenizer, messages.slice(0, last), tools, messages[last])
  }
  if ('prompt' in row) {
    const { prompt, completion } = row as unknown as CompletionExample
    if (typeof completion !== 'string' || completion === '') return null
    return { prompt: tokenizer.encode(prompt, { addSpecialTokens: true }), reference: completion, referenceTokens: tokenizer.encode(completion, { addSpecialTokens: false }).length }
  }
  if ('input' in row) {
    const { input, preferred_output: preferred } = row as unknown as PreferenceExample
    return chatPrompt(tokenizer, input.messages, input.tools, preferred.findLast((m) => m.role === 'assistant'))
  }
  return null
}

/** The first `max` rows that have a text reference, in file order. */
export function answerExamples(tokenizer: TextTokenizer, rows: JsonlRow[], max: number): AnswerExample[] {
  const out: AnswerExample[] = []
  for (const row of rows) {
    if (out.length >= max) break
    const e = answerExample(tokenizer, row)
    if (e) out.push(e)
  }
  return out
}

/** Whether every reference is a JSON object or array: then `valid_json` is a default grader. */
export function referencesAreJson(examples: AnswerExample[]): boolean {
  return examples.length > 0 && examples.every((e) => {
    try {
      const v = JSON.parse(e.reference) as unknown
      return v !== null && typeof v === 'object'
    } catch {
      return false
    }
  })
}

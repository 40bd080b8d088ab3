// Turns training examples into token ids and a per-token loss mask. Pure (given a tokenizer).
//
// Chat: the loss covers exactly the tokens each trainable assistant message adds. We find them by
// rendering the template prefix by prefix -- the conversation up to the message with the
// generation prompt, and up to and including the message -- and locating where each rendering's
// tokens stop agreeing with the full conversation's tokens. This works for any template without
// it having to mark assistant spans ({% generation %}), and includes the end-of-turn tokens the
// template writes after the message, so the model learns to stop.
import type { TemplateMessage, TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import type { ChatExample, ChatMessage, CompletionExample, EncodedPreference, EncodedSequence, PreferenceExample } from './example-types.ts'

/** Length of the common prefix of two id sequences. */
export function commonPrefixLength(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

/** Content parts ([{type:'text', text}]) become one string; `weight` never reaches the template. */
export function toTemplateMessage(message: ChatMessage): TemplateMessage {
  const { weight: _weight, ...rest } = message
  const content = Array.isArray(message.content)
    ? message.content.map((part) => part.text ?? '').join('')
    : message.content
  return { ...rest, content }
}

function isTrained(message: ChatMessage): boolean {
  return message.role === 'assistant' && message.weight !== 0
}

export function truncate(sequence: EncodedSequence, maxLength: number): EncodedSequence {
  if (sequence.ids.length <= maxLength) return sequence
  return { ids: sequence.ids.slice(0, maxLength), lossMask: sequence.lossMask.slice(0, maxLength), truncated: true }
}

/** The whole conversation's ids, before truncation: what encodeChat trains on (without the loss mask's renderings). */
export function chatIds(tokenizer: TextTokenizer, example: ChatExample): number[] {
  return tokenizer.encodeChat(example.messages.map(toTemplateMessage), { tools: example.tools })
}

/** Chat example -> ids + mask; `trained` decides which assistant messages carry loss. */
export function encodeChat(
  tokenizer: TextTokenizer,
  example: ChatExample,
  maxLength: number,
  trained: (message: ChatMessage, index: number) => boolean = isTrained,
): EncodedSequence {
  const messages = example.messages.map(toTemplateMessage)
  const tools = example.tools
  const ids = chatIds(tokenizer, example)
  const lossMask = new Array<number>(ids.length).fill(0)
  example.messages.forEach((message, i) => {
    if (message.role !== 'assistant' || !trained(message, i)) return
    const before = tokenizer.encodeChat(messages.slice(0, i), { tools, addGenerationPrompt: true })
    const through = tokenizer.encodeChat(messages.slice(0, i + 1), { tools })
    const start = commonPrefixLength(before, ids)
    const end = commonPrefixLength(through, ids)
    for (let t = start; t < end; t++) lossMask[t] = 1
  })
  return truncate({ ids, lossMask, truncated: false }, maxLength)
}

/**
 * Prompt/completion: the prompt is encoded with the model's special tokens (BOS where it has one),
 * the completion without, followed by EOS so generation learns to stop. Loss on completion + EOS.
 */
export function encodeCompletion(tokenizer: TextTokenizer, example: CompletionExample, maxLength: number): EncodedSequence {
  const prompt = tokenizer.encode(example.prompt, { addSpecialTokens: true })
  const completion = tokenizer.encode(example.completion, { addSpecialTokens: false })
  const eos = tokenizer.eosTokenId
  if (eos !== null) completion.push(eos)
  return truncate(
    {
      ids: [...prompt, ...completion],
      lossMask: [...new Array<number>(prompt.length).fill(0), ...new Array<number>(completion.length).fill(1)],
      truncated: false,
    },
    maxLength,
  )
}

/** One side of a preference pair as a conversation: the input, then that output. */
export function preferenceSide(example: PreferenceExample, output: ChatMessage[]): ChatExample {
  return { messages: [...example.input.messages, ...output], tools: example.input.tools }
}

/**
 * Preference pair: chosen and rejected are the input conversation followed by each output; the
 * loss covers only the output messages (never assistant turns inside `input`).
 */
export function encodePreference(tokenizer: TextTokenizer, example: PreferenceExample, maxLength: number): EncodedPreference {
  const inputLength = example.input.messages.length
  const encodeWith = (output: ChatMessage[]) =>
    encodeChat(tokenizer, preferenceSide(example, output), maxLength, (m, i) => i >= inputLength && m.weight !== 0)
  const chosen = encodeWith(example.preferred_output)
  const rejected = encodeWith(example.non_preferred_output)
  const prompt = tokenizer.encodeChat(example.input.messages.map(toTemplateMessage), { tools: example.input.tools, addGenerationPrompt: true })
  const promptLength = Math.min(commonPrefixLength(prompt, chosen.ids), commonPrefixLength(prompt, rejected.ids))
  return { chosen, rejected, promptLength }
}

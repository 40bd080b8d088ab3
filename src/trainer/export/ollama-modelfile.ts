// An Ollama Modelfile for a GGUF export: FROM the GGUF beside it, TEMPLATE converted from the
// model's Jinja chat template, PARAMETER stop for the tokens that end an assistant turn.
//
// A Jinja template cannot be translated into Go's template language in general, so the conversion
// renders the template with marker contents and reads off what it writes around each role's message
// (the system, user and assistant turns and the generation prompt). It holds only for templates
// that render a conversation as those pieces put one after another; that is checked by rendering a
// longer conversation and comparing, and a template that fails the check gets no TEMPLATE (the
// Modelfile says so) rather than a wrong one.
import type { TemplateMessage, TextTokenizer } from '../tokenizer/text-tokenizer.ts'

/** The text a template writes before and after one message's content. */
export interface TurnPieces {
  before: string
  after: string
}

export interface ChatPieces {
  system: TurnPieces
  user: TurnPieces
  assistant: TurnPieces
  /** What add_generation_prompt appends. */
  generation: string
  /** Written at the start when the conversation has no system message (e.g. Qwen2's default system prompt). */
  defaultSystem: string
}

const MARK = (name: string) => `\u0002${name}\u0003`

function splitOn(text: string, mark: string): TurnPieces | null {
  const parts = text.split(mark)
  return parts.length === 2 ? { before: parts[0], after: parts[1] } : null
}

function rest(longer: string, prefix: string): string | null {
  return longer.startsWith(prefix) ? longer.slice(prefix.length) : null
}

/** Assembles a conversation from the pieces, as the converted TEMPLATE does. */
export function assembleChat(pieces: ChatPieces, messages: { role: 'system' | 'user' | 'assistant'; content: string }[], addGenerationPrompt: boolean): string {
  let out = messages[0]?.role === 'system' ? '' : pieces.defaultSystem
  for (const m of messages) out += pieces[m.role].before + m.content + pieces[m.role].after
  return out + (addGenerationPrompt ? pieces.generation : '')
}

/**
 * The pieces of `tokenizer`'s chat template, or null when the template does not render as pieces
 * one after another. A leading BOS token is left out: llama.cpp adds it from the GGUF's metadata.
 */
export function chatPieces(tokenizer: TextTokenizer): ChatPieces | null {
  const render = (messages: TemplateMessage[], addGenerationPrompt = false) => {
    const text = tokenizer.renderChat(messages, { addGenerationPrompt })
    const bos = tokenizer.bosToken
    return bos && text.startsWith(bos) ? text.slice(bos.length) : text
  }
  try {
    const sys = { role: 'system', content: MARK('S') }
    const user = { role: 'user', content: MARK('U') }
    const asst = { role: 'assistant', content: MARK('A') }
    const r0 = render([sys])
    const r1 = render([sys, user])
    const r2 = render([sys, user, asst])
    const userSeg = rest(r1, r0)
    const asstSeg = rest(r2, r1)
    const generation = rest(render([sys, user], true), r1)
    const noSystem = render([user])
    if (userSeg === null || asstSeg === null || generation === null || !noSystem.endsWith(userSeg)) return null
    const system = splitOn(r0, MARK('S'))
    const u = splitOn(userSeg, MARK('U'))
    const a = splitOn(asstSeg, MARK('A'))
    if (!system || !u || !a) return null
    const pieces: ChatPieces = { system, user: u, assistant: a, generation, defaultSystem: noSystem.slice(0, noSystem.length - userSeg.length) }
    // The check: a longer conversation, with and without a system message, renders as the pieces put together.
    const conversations: { role: 'system' | 'user' | 'assistant'; content: string }[][] = [
      [{ role: 'system', content: 'sys' }, { role: 'user', content: 'q1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'q2' }],
      [{ role: 'user', content: 'q1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'q2' }, { role: 'assistant', content: 'a2' }],
    ]
    for (const c of conversations) {
      for (const gen of [false, true]) if (render(c, gen) !== assembleChat(pieces, c, gen)) return null
    }
    return pieces
  } catch {
    return null
  }
}

/** Text as a literal inside a Go template: `{{` would open an action, and `"""` would end the TEMPLATE block. */
function goLiteral(text: string): string | null {
  return text.includes('{{') || text.includes('}}') || text.includes('"""') ? null : text
}

/** The Go template (Ollama's TEMPLATE) for the pieces; null when a piece cannot be written literally. */
export function ollamaTemplate(p: ChatPieces): string | null {
  const lit = [p.system.before, p.system.after, p.user.before, p.user.after, p.assistant.before, p.assistant.after, p.generation, p.defaultSystem].map(goLiteral)
  if (lit.some((x) => x === null)) return null
  // No whitespace-trimming actions after literal text: they would eat the template's own newlines.
  return '{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 }}' +
    (p.defaultSystem ? `{{ if and (eq $i 0) (ne .Role "system") }}${p.defaultSystem}{{ end }}` : '') +
    `{{ if eq .Role "system" }}${p.system.before}{{ .Content }}${p.system.after}` +
    `{{ else if eq .Role "user" }}${p.user.before}{{ .Content }}${p.user.after}` +
    `{{ else if eq .Role "assistant" }}${p.assistant.before}{{ .Content }}{{ if not $last }}${p.assistant.after}{{ end }}` +
    `{{ end }}{{ if and $last (ne .Role "assistant") }}${p.generation}{{ end }}{{ end }}`
}

/** Tokens that end an assistant turn: EOS and the special tokens the template writes after one. */
export function stopTokens(tokenizer: TextTokenizer, tokenizerJson: Record<string, unknown>, pieces: ChatPieces | null): string[] {
  const stops = new Set<string>()
  if (tokenizer.eosToken) stops.add(tokenizer.eosToken)
  const added = Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as { content?: unknown; special?: unknown }[]) : []
  for (const t of added) {
    if (t.special === true && typeof t.content === 'string' && t.content !== '' && pieces?.assistant.after.includes(t.content)) stops.add(t.content)
  }
  return [...stops]
}

/** A Go/Ollama string literal for PARAMETER stop. */
const quoted = (s: string) => JSON.stringify(s)

export function ollamaModelfile(ggufFile: string, tokenizer: TextTokenizer, tokenizerJson: Record<string, unknown>, chatTemplate: string | null): string {
  const pieces = chatTemplate ? chatPieces(tokenizer) : null
  const template = pieces ? ollamaTemplate(pieces) : null
  const lines = [`# Ollama Modelfile written by Skillet. Use: ollama create my-model -f Modelfile`, `FROM ./${ggufFile}`]
  if (template) lines.push(`TEMPLATE """${template}"""`)
  else lines.push(chatTemplate
    ? "# The model's chat template could not be converted to Ollama's template language: add a TEMPLATE by hand."
    : '# The model has no chat template: it is used for plain completions.')
  for (const stop of stopTokens(tokenizer, tokenizerJson, pieces)) lines.push(`PARAMETER stop ${quoted(stop)}`)
  return lines.join('\n') + '\n'
}

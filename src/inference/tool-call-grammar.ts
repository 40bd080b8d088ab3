// Function calling under a grammar, so that even a tiny model emits valid calls. Calls are
// written the Hermes / Qwen way chat templates render them back:
//   <tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>
// The JSON inside is constrained by a JSON-schema grammar built from the tools' parameters.
import type { FunctionTool } from '../schemas/chat-completions.ts'

export const TOOL_CALL_OPEN = '<tool_call>'
export const TOOL_CALL_CLOSE = '</tool_call>'

/** The JSON schema of one call: {name: <one of the tools>, arguments: <that tool's parameters>}. */
export function toolCallSchema(tools: FunctionTool[]): Record<string, unknown> {
  const variants = tools.map((t) => ({
    type: 'object',
    properties: { name: { const: t.function.name }, arguments: t.function.parameters ?? { type: 'object', properties: {} } },
    required: ['name', 'arguments'],
  }))
  return variants.length === 1 ? variants[0] : { oneOf: variants }
}

/**
 * A GBNF grammar from a JSON-schema grammar whose root rule is renamed `call`:
 * - `required` (or a named function): one or more calls, nothing else;
 * - `auto`: either calls, or free text that does not start with "<" (or `textRule` when given).
 */
export function toolCallGrammar(callGrammar: string, mode: 'required' | 'auto', opts: { parallel: boolean; textGrammar?: string }): string {
  const renamed = renameRoot(callGrammar, 'call')
  const calls = `"${TOOL_CALL_OPEN}\\n" call "\\n${TOOL_CALL_CLOSE}"${opts.parallel ? ` ("\\n${TOOL_CALL_OPEN}\\n" call "\\n${TOOL_CALL_CLOSE}")*` : ''}`
  if (mode === 'required') return `root ::= ${calls}\n${renamed}`
  const text = opts.textGrammar ? renameRoot(opts.textGrammar, 'text') : 'text ::= [^<] .*'
  return `root ::= ${calls} | text\n${renamed}\n${text}`
}

/** Renames a grammar's root rule (and its uses), keeping its other rules. */
function renameRoot(grammar: string, name: string): string {
  return grammar.replace(/(^|[\s(|])root(?=\s*::=|[\s)|]|$)/gm, `$1${name}`)
}

/** Splits generated text made of tool calls into {name, arguments} (arguments re-serialised). */
export function parseToolCalls(text: string): { name: string; arguments: string }[] | null {
  const trimmed = text.trim()
  if (!trimmed.startsWith(TOOL_CALL_OPEN)) return null
  const calls: { name: string; arguments: string }[] = []
  const pattern = /<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g
  for (const m of trimmed.matchAll(pattern)) {
    try {
      const parsed = JSON.parse(m[1]) as { name?: unknown; arguments?: unknown }
      if (typeof parsed.name !== 'string') return null
      calls.push({ name: parsed.name, arguments: JSON.stringify(parsed.arguments ?? {}) })
    } catch {
      return null
    }
  }
  return calls.length > 0 ? calls : null
}

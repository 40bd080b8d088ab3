// OpenAI chat messages → the messages and tools a Hugging Face chat template expects
// (transformers' conventions: tool calls with parsed arguments, tool results with tool_call_id).
import type { ChatMessage, FunctionTool } from '../schemas/chat-completions.ts'
import { invalidRequest } from '../lib/errors.ts'

export interface TemplateMessage {
  role: string
  content: string
  tool_calls?: { type: 'function'; id: string; function: { name: string; arguments: unknown } }[]
  tool_call_id?: string
  name?: string
}

/** The text of a message: a string, or its text parts joined; other part types are refused. */
function textOf(message: ChatMessage, index: number): string {
  const { content } = message
  if (content === undefined || content === null) return ''
  if (typeof content === 'string') return content
  return content
    .map((part, j) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw invalidRequest(`Invalid content part type '${part.type}' in messages[${index}].content[${j}]: only 'text' parts are supported by this model.`, `messages.${index}.content.${j}.type`, 'invalid_value')
      }
      return part.text
    })
    .join('')
}

const parseArguments = (text: string, where: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw invalidRequest(`${where}.function.arguments must be a JSON string.`, where, 'invalid_value')
  }
}

export function templateMessages(messages: ChatMessage[]): TemplateMessage[] {
  return messages.map((m, i) => {
    // Templates know system, user, assistant and tool; OpenAI's developer role is a system message.
    const role = m.role === 'developer' ? 'system' : m.role
    const out: TemplateMessage = { role, content: textOf(m, i) }
    if (m.role === 'tool') {
      if (!m.tool_call_id) throw invalidRequest(`Missing parameter 'tool_call_id' in messages[${i}]: a tool message answers a tool call.`, `messages.${i}.tool_call_id`, 'missing_required_parameter')
      out.tool_call_id = m.tool_call_id
    }
    if (m.role === 'assistant' && m.tool_calls?.length) {
      out.tool_calls = m.tool_calls.map((c, j) => ({ type: 'function', id: c.id, function: { name: c.function.name, arguments: parseArguments(c.function.arguments, `messages.${i}.tool_calls.${j}`) } }))
    }
    if (m.name !== undefined) out.name = m.name
    return out
  })
}

/** Tools as templates take them: {type: 'function', function: {name, description, parameters}}. */
export function templateTools(tools: FunctionTool[] | undefined): unknown[] | null {
  if (!tools || tools.length === 0) return null
  return tools.map((t) => ({ type: 'function', function: { name: t.function.name, ...(t.function.description ? { description: t.function.description } : {}), parameters: t.function.parameters ?? { type: 'object', properties: {} } } }))
}

// Rules for one chat message and for tool definitions, following OpenAI's
// fine-tuning input schemas (FineTuneChatRequestInput and friends):
//
// - roles are system, user, assistant, tool and the legacy function. The
//   fine-tuning schema has no `developer` role, so it is refused with a hint.
// - content is a string or an array of text parts {type: 'text', text}. Image,
//   audio and file parts are refused: this server trains on text only.
// - `weight` (0 or 1) says whether an assistant message is trained on; it is
//   only allowed on assistant messages of supervised (chat) examples.
// - unknown keys are refused, so a typo such as `contents` or `tool_call`
//   does not silently drop data from training.
//
// Each check returns the first problem as a message ("messages[1].content
// must be ...") or undefined. Paths are built only when there is a problem,
// keeping the common, valid path free of string work.

/** What a valid example contributes to the dataset statistics. */
export interface ExampleTally {
  /** Characters of trainable text: message contents and tool-call arguments. */
  chars: number
  assistantMessages: number
  usesTools: boolean
}

/** Where a message sits decides which roles and keys it may use. */
export type MessagePlace =
  | 'conversation' // `messages` of a supervised chat example
  | 'preference_input' // `input.messages` of a preference (DPO) example
  | 'preference_output' // `preferred_output` / `non_preferred_output` items

// A Map, not an object literal: a role such as 'constructor' must not find
// Object.prototype's members.
const KEYS_BY_ROLE: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['system', new Set(['role', 'content', 'name'])],
  ['user', new Set(['role', 'content', 'name'])],
  ['assistant', new Set(['role', 'content', 'name', 'weight', 'tool_calls', 'function_call', 'refusal'])],
  ['tool', new Set(['role', 'content', 'tool_call_id'])],
  ['function', new Set(['role', 'content', 'name'])],
])

export function checkMessage(
  message: unknown,
  list: string,
  index: number,
  place: MessagePlace,
  tally: ExampleTally,
): string | undefined {
  if (!isPlainObject(message)) return `${list}[${index}] must be an object`
  const role = message.role
  if (role === undefined) return `${list}[${index}].role is missing`
  if (typeof role !== 'string') return `${list}[${index}].role must be a string`
  const allowedKeys = KEYS_BY_ROLE.get(role)
  if (allowedKeys === undefined) {
    if (role === 'developer') return `${list}[${index}]: role 'developer' is not supported for fine-tuning; use 'system'`
    return `unknown role '${clip(role)}' in ${list}[${index}]`
  }
  if (place === 'preference_output' && role !== 'assistant') {
    return `${list}[${index}].role must be 'assistant', got '${role}'`
  }
  for (const key in message) {
    if (allowedKeys.has(key)) continue
    if (key === 'weight') return `${list}[${index}].weight is only allowed on assistant messages`
    return `${list}[${index}] has unknown key '${clip(key)}' for role '${role}'`
  }
  if (role === 'assistant') return checkAssistantMessage(message, list, index, place, tally)
  if (role === 'function') {
    if (typeof message.name !== 'string' || message.name === '') return `${list}[${index}].name must be a non-empty string`
    if (message.content === null) return undefined
  } else if (message.name !== undefined && typeof message.name !== 'string') {
    return `${list}[${index}].name must be a string`
  }
  if (role === 'tool' && (typeof message.tool_call_id !== 'string' || message.tool_call_id === '')) {
    return `${list}[${index}].tool_call_id must be a non-empty string`
  }
  return checkContent(message.content, list, index, tally)
}

function checkAssistantMessage(
  message: Record<string, unknown>,
  list: string,
  index: number,
  place: MessagePlace,
  tally: ExampleTally,
): string | undefined {
  tally.assistantMessages++
  const weight = message.weight
  if (weight !== undefined) {
    if (place !== 'conversation') return `${list}[${index}].weight is only allowed in supervised (chat) examples`
    if (weight !== 0 && weight !== 1) return `${list}[${index}].weight must be 0 or 1`
  }
  if (message.name !== undefined && typeof message.name !== 'string') return `${list}[${index}].name must be a string`
  if (message.refusal !== undefined && message.refusal !== null && typeof message.refusal !== 'string') {
    return `${list}[${index}].refusal must be a string or null`
  }
  const hasCalls = message.tool_calls !== undefined || message.function_call !== undefined
  if (message.tool_calls !== undefined) {
    const problem = checkToolCalls(message.tool_calls, list, index, tally)
    if (problem !== undefined) return problem
  }
  if (message.function_call !== undefined) {
    const problem = checkFunctionCall(message.function_call, `${list}[${index}].function_call`, tally)
    if (problem !== undefined) return problem
  }
  if (message.content === undefined || message.content === null) {
    return hasCalls ? undefined : `${list}[${index}]: assistant message must have content or tool_calls`
  }
  return checkContent(message.content, list, index, tally)
}

function checkContent(content: unknown, list: string, index: number, tally: ExampleTally): string | undefined {
  if (typeof content === 'string') {
    tally.chars += content.length
    return undefined
  }
  if (content === undefined) return `${list}[${index}].content is missing`
  if (!Array.isArray(content) || content.length === 0) {
    return `${list}[${index}].content must be a string or an array of text parts`
  }
  for (let i = 0; i < content.length; i++) {
    const part: unknown = content[i]
    if (!isPlainObject(part) || typeof part.type !== 'string') {
      return `${list}[${index}].content[${i}] must be a text part {"type": "text", "text": "..."}`
    }
    if (part.type !== 'text') {
      return `${list}[${index}].content[${i}] has type '${clip(part.type)}'; only text parts are supported`
    }
    if (typeof part.text !== 'string') return `${list}[${index}].content[${i}].text must be a string`
    for (const key in part) {
      if (key !== 'type' && key !== 'text') return `${list}[${index}].content[${i}] has unknown key '${clip(key)}'`
    }
    tally.chars += part.text.length
  }
  return undefined
}

function checkToolCalls(toolCalls: unknown, list: string, index: number, tally: ExampleTally): string | undefined {
  if (!Array.isArray(toolCalls) || toolCalls.length === 0) {
    return `${list}[${index}].tool_calls must be a non-empty array`
  }
  tally.usesTools = true
  for (let i = 0; i < toolCalls.length; i++) {
    const call: unknown = toolCalls[i]
    const path = () => `${list}[${index}].tool_calls[${i}]`
    if (!isPlainObject(call)) return `${path()} must be an object`
    if (typeof call.id !== 'string' || call.id === '') return `${path()}.id must be a non-empty string`
    if (call.type !== 'function') return `${path()}.type must be 'function'`
    for (const key in call) {
      if (key !== 'id' && key !== 'type' && key !== 'function') return `${path()} has unknown key '${clip(key)}'`
    }
    const problem = checkFunctionCall(call.function, `${path()}.function`, tally)
    if (problem !== undefined) return problem
  }
  return undefined
}

// The {name, arguments} pair of a tool call or of a legacy function_call.
function checkFunctionCall(call: unknown, path: string, tally: ExampleTally): string | undefined {
  if (!isPlainObject(call)) return `${path} must be an object with name and arguments`
  if (typeof call.name !== 'string' || call.name === '') return `${path}.name must be a non-empty string`
  const args = call.arguments
  if (typeof args !== 'string') {
    return `${path}.arguments must be a string of JSON-encoded arguments, got ${describeType(args)}`
  }
  for (const key in call) {
    if (key !== 'name' && key !== 'arguments') return `${path} has unknown key '${clip(key)}'`
  }
  try {
    JSON.parse(args)
  } catch {
    return `${path}.arguments is not valid JSON`
  }
  tally.usesTools = true
  tally.chars += call.name.length + args.length
  return undefined
}

/** Checks a top-level `tools` array (ChatCompletionTool[]). */
export function checkToolDefinitions(tools: unknown, path: string): string | undefined {
  if (!Array.isArray(tools)) return `${path} must be an array`
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i]
    if (!isPlainObject(tool)) return `${path}[${i}] must be an object`
    if (tool.type !== 'function') return `${path}[${i}].type must be 'function'`
    const problem = checkFunctionDefinition(tool.function, `${path}[${i}].function`)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** Checks a legacy top-level `functions` array (ChatCompletionFunctions[]). */
export function checkFunctionDefinitions(functions: unknown, path: string): string | undefined {
  if (!Array.isArray(functions)) return `${path} must be an array`
  for (let i = 0; i < functions.length; i++) {
    const problem = checkFunctionDefinition(functions[i], `${path}[${i}]`)
    if (problem !== undefined) return problem
  }
  return undefined
}

function checkFunctionDefinition(definition: unknown, path: string): string | undefined {
  if (!isPlainObject(definition)) return `${path} must be an object`
  if (typeof definition.name !== 'string' || definition.name === '') return `${path}.name must be a non-empty string`
  if (definition.description !== undefined && typeof definition.description !== 'string') {
    return `${path}.description must be a string`
  }
  if (definition.parameters !== undefined && !isPlainObject(definition.parameters)) {
    return `${path}.parameters must be an object (a JSON Schema)`
  }
  if (definition.strict !== undefined && definition.strict !== null && typeof definition.strict !== 'boolean') {
    return `${path}.strict must be a boolean`
  }
  return undefined
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

/** Keeps user-supplied text quoted in messages short. */
export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}

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

import { isJsonText } from './json-text.ts'

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

type Role = 'system' | 'user' | 'assistant' | 'tool' | 'function'

// Switches, not lookup tables: a role or key such as 'constructor' must not
// find Object.prototype's members, and comparing against a few constant
// strings is the cheapest check there is for every key of every message.
//
// The role comes back as our own constant rather than the parsed string:
// constants are interned, so the role comparisons that follow, several per
// message, compare pointers instead of characters.
function knownRole(role: string): Role | undefined {
  switch (role) {
    case 'system':
      return 'system'
    case 'user':
      return 'user'
    case 'assistant':
      return 'assistant'
    case 'tool':
      return 'tool'
    case 'function':
      return 'function'
  }
  return undefined
}

// system, user and function: role, content, name. assistant adds weight,
// tool_calls, function_call and refusal. tool: role, content, tool_call_id.
function roleAllowsKey(role: Role, key: string): boolean {
  switch (key) {
    case 'role':
    case 'content':
      return true
    case 'name':
      return role !== 'tool'
    case 'tool_call_id':
      return role === 'tool'
    case 'weight':
    case 'tool_calls':
    case 'function_call':
    case 'refusal':
      return role === 'assistant'
  }
  return false
}

export function checkMessage(
  message: unknown,
  list: string,
  index: number,
  place: MessagePlace,
  tally: ExampleTally,
): string | undefined {
  if (!isPlainObject(message)) return `${list}[${index}] must be an object`
  const given = message.role
  if (given === undefined) return `${list}[${index}].role is missing`
  if (typeof given !== 'string') return `${list}[${index}].role must be a string`
  const role = knownRole(given)
  if (role === undefined) {
    if (given === 'developer') return `${list}[${index}]: role 'developer' is not supported for fine-tuning; use 'system'`
    return `unknown role '${clip(given)}' in ${list}[${index}]`
  }
  if (place === 'preference_output' && role !== 'assistant') {
    return `${list}[${index}].role must be 'assistant', got '${role}'`
  }
  for (const key in message) {
    if (roleAllowsKey(role, key)) continue
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
  const toolCalls = message.tool_calls
  const functionCall = message.function_call
  if (toolCalls !== undefined) {
    const problem = checkToolCalls(toolCalls, list, index, tally)
    if (problem !== undefined) return problem
  }
  if (functionCall !== undefined) {
    const problem = functionCallProblem(functionCall, tally)
    if (problem !== undefined) return `${list}[${index}].function_call${problem}`
  }
  const content = message.content
  if (content === undefined || content === null) {
    const hasCalls = toolCalls !== undefined || functionCall !== undefined
    return hasCalls ? undefined : `${list}[${index}]: assistant message must have content or tool_calls`
  }
  return checkContent(content, list, index, tally)
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
    if (!isPlainObject(call)) return `${toolCallPath(list, index, i)} must be an object`
    if (typeof call.id !== 'string' || call.id === '') return `${toolCallPath(list, index, i)}.id must be a non-empty string`
    if (call.type !== 'function') return `${toolCallPath(list, index, i)}.type must be 'function'`
    for (const key in call) {
      if (key !== 'id' && key !== 'type' && key !== 'function') {
        return `${toolCallPath(list, index, i)} has unknown key '${clip(key)}'`
      }
    }
    const problem = functionCallProblem(call.function, tally)
    if (problem !== undefined) return `${toolCallPath(list, index, i)}.function${problem}`
  }
  return undefined
}

function toolCallPath(list: string, index: number, i: number): string {
  return `${list}[${index}].tool_calls[${i}]`
}

// The functions below return a problem without its path (" must be ...",
// ".name must be ..."): the caller prepends the path, so no path is built
// for the valid examples that make up almost all of a file.

// The {name, arguments} pair of a tool call or of a legacy function_call.
function functionCallProblem(call: unknown, tally: ExampleTally): string | undefined {
  if (!isPlainObject(call)) return ' must be an object with name and arguments'
  if (typeof call.name !== 'string' || call.name === '') return '.name must be a non-empty string'
  const args = call.arguments
  if (typeof args !== 'string') {
    return `.arguments must be a string of JSON-encoded arguments, got ${describeType(args)}`
  }
  for (const key in call) {
    if (key !== 'name' && key !== 'arguments') return ` has unknown key '${clip(key)}'`
  }
  if (!isJsonText(args)) return '.arguments is not valid JSON'
  tally.usesTools = true
  tally.chars += call.name.length + args.length
  return undefined
}

/** The problem with a top-level `tools` array (ChatCompletionTool[]), relative to its path. */
export function toolDefinitionsProblem(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return ' must be an array'
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i]
    if (!isPlainObject(tool)) return `[${i}] must be an object`
    if (tool.type !== 'function') return `[${i}].type must be 'function'`
    const problem = functionDefinitionProblem(tool.function)
    if (problem !== undefined) return `[${i}].function${problem}`
  }
  return undefined
}

/** The problem with a legacy top-level `functions` array (ChatCompletionFunctions[]), relative to its path. */
export function functionDefinitionsProblem(functions: unknown): string | undefined {
  if (!Array.isArray(functions)) return ' must be an array'
  for (let i = 0; i < functions.length; i++) {
    const problem = functionDefinitionProblem(functions[i])
    if (problem !== undefined) return `[${i}]${problem}`
  }
  return undefined
}

function functionDefinitionProblem(definition: unknown): string | undefined {
  if (!isPlainObject(definition)) return ' must be an object'
  if (typeof definition.name !== 'string' || definition.name === '') return '.name must be a non-empty string'
  if (definition.description !== undefined && typeof definition.description !== 'string') {
    return '.description must be a string'
  }
  if (definition.parameters !== undefined && !isPlainObject(definition.parameters)) {
    return '.parameters must be an object (a JSON Schema)'
  }
  if (definition.strict !== undefined && definition.strict !== null && typeof definition.strict !== 'boolean') {
    return '.strict must be a boolean'
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

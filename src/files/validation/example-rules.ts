// Rules for one parsed JSONL line (one training example), in the three
// formats OpenAI accepts for fine-tuning:
//
// - chat (FineTuneChatRequestInput): {messages, tools?, parallel_tool_calls?,
//   functions?}; at least one assistant message, since that is what is
//   trained on.
// - prompt_completion (FineTuneCompletionRequestInput): {prompt, completion},
//   both strings.
// - preference, for DPO (FineTunePreferenceRequestInput): {input: {messages,
//   tools?, parallel_tool_calls?}, preferred_output, non_preferred_output},
//   also accepted under the older names preferred_completion and
//   non_preferred_completion. Each output holds exactly one assistant
//   message: OpenAI trains DPO on one-turn outputs only.
//
// Unknown top-level keys are refused like unknown message keys (see
// message-rules.ts for why).

import {
  checkMessage,
  clip,
  describeType,
  type ExampleTally,
  functionDefinitionsProblem,
  type MessagePlace,
  toolDefinitionsProblem,
} from './message-rules.ts'

export type DatasetFormat = 'chat' | 'prompt_completion' | 'preference'

export type ExampleCheck =
  | { ok: true; format: DatasetFormat }
  | { ok: false; format: DatasetFormat | null; message: string }

// A valid example's outcome is one of three constants and its figures go into
// the caller's tally, so the examples that make up almost all of a file are
// checked without allocating anything.
const VALID_CHAT: ExampleCheck = { ok: true, format: 'chat' }
const VALID_PROMPT_COMPLETION: ExampleCheck = { ok: true, format: 'prompt_completion' }
const VALID_PREFERENCE: ExampleCheck = { ok: true, format: 'preference' }

/**
 * Checks one example; `example` is the value JSON.parse gave for the line.
 * `tally` is zeroed, then filled with what the example contributes (only
 * meaningful when it is valid).
 */
export function checkExample(example: Record<string, unknown>, tally: ExampleTally): ExampleCheck {
  tally.chars = 0
  tally.assistantMessages = 0
  tally.usesTools = false
  const detected = detectFormat(example)
  if (typeof detected === 'object') return { ok: false, format: detected.format, message: detected.message }
  let message: string | undefined
  let valid: ExampleCheck
  if (detected === 'chat') {
    message = checkChatExample(example, tally)
    valid = VALID_CHAT
  } else if (detected === 'prompt_completion') {
    message = checkPromptCompletionExample(example, tally)
    valid = VALID_PROMPT_COMPLETION
  } else {
    message = checkPreferenceExample(example, tally)
    valid = VALID_PREFERENCE
  }
  if (message !== undefined) return { ok: false, format: detected, message }
  return valid
}

// A switch, so that keys such as 'constructor' find nothing.
function formatOfKey(key: string): DatasetFormat | undefined {
  switch (key) {
    case 'messages':
      return 'chat'
    case 'prompt':
    case 'completion':
      return 'prompt_completion'
    case 'input':
    case 'preferred_output':
    case 'non_preferred_output':
    case 'preferred_completion':
    case 'non_preferred_completion':
      return 'preference'
  }
  return undefined
}

// The format is named by its characteristic keys. Keys of two formats in one
// example are an error rather than a guess. Every other key must belong to
// that format too (a chat example's tool settings are the only such keys);
// one pass over the keys decides both, naming the first unknown key. A
// format that was found comes back with that error, so that the file-level
// "one format per file" check still sees it.
export function detectFormat(
  example: Record<string, unknown>,
): DatasetFormat | { format: DatasetFormat | null; message: string } {
  let format: DatasetFormat | undefined
  let formatKey = ''
  // The first key that names no format, and the first that is not a chat
  // example's key either: unknown in the other formats, and in chat.
  let firstOtherKey: string | undefined
  let firstNonChatKey: string | undefined
  for (const key in example) {
    const keyFormat = formatOfKey(key)
    if (keyFormat === undefined) {
      if (firstOtherKey === undefined) firstOtherKey = key
      if (firstNonChatKey === undefined && !isConversationKey(key)) firstNonChatKey = key
      continue
    }
    if (keyFormat === format) continue
    if (format !== undefined) {
      return { format: null, message: `example mixes formats: '${formatKey}' is ${format} but '${key}' is ${keyFormat}` }
    }
    format = keyFormat
    formatKey = key
  }
  if (format === undefined) {
    return {
      format: null,
      message:
        "unrecognized example: expected 'messages' (chat), 'prompt' and 'completion' (prompt_completion), " +
        "or 'input', 'preferred_output' and 'non_preferred_output' (preference)",
    }
  }
  const unknownKey = format === 'chat' ? firstNonChatKey : firstOtherKey
  if (unknownKey !== undefined) return { format, message: `unknown key '${clip(unknownKey)}' in ${EXAMPLE_NAMES[format]}` }
  return format
}

const EXAMPLE_NAMES: Record<DatasetFormat, string> = {
  chat: 'chat example',
  prompt_completion: 'prompt/completion example',
  preference: 'preference example',
}

// The keys of a chat example, and of a preference example's `input`.
function isConversationKey(key: string): boolean {
  return key === 'messages' || key === 'tools' || key === 'parallel_tool_calls' || key === 'functions'
}

function checkChatExample(example: Record<string, unknown>, tally: ExampleTally): string | undefined {
  const problem = checkConversation(example, '', 'conversation', tally)
  if (problem !== undefined) return problem
  if (tally.assistantMessages === 0) return 'example has no assistant message to train on'
  return undefined
}

// `messages` plus the tool settings that may sit beside them, both at the top
// of a chat example and inside a preference example's `input`.
function checkConversation(
  holder: Record<string, unknown>,
  prefix: string,
  place: MessagePlace,
  tally: ExampleTally,
): string | undefined {
  const messages = holder.messages
  if (!Array.isArray(messages) || messages.length === 0) {
    return `${prefix}messages must be a non-empty array, got ${describeLength(messages)}`
  }
  // A chat example's list needs no string built for it, once per example.
  const list = prefix === '' ? 'messages' : `${prefix}messages`
  for (let i = 0; i < messages.length; i++) {
    const problem = checkMessage(messages[i], list, i, place, tally)
    if (problem !== undefined) return problem
  }
  if (holder.tools !== undefined) {
    const problem = toolDefinitionsProblem(holder.tools)
    if (problem !== undefined) return `${prefix}tools${problem}`
    tally.usesTools = true
  }
  if (holder.functions !== undefined) {
    const problem = functionDefinitionsProblem(holder.functions)
    if (problem !== undefined) return `${prefix}functions${problem}`
    tally.usesTools = true
  }
  if (holder.parallel_tool_calls !== undefined && typeof holder.parallel_tool_calls !== 'boolean') {
    return `${prefix}parallel_tool_calls must be a boolean`
  }
  return undefined
}

function checkPromptCompletionExample(example: Record<string, unknown>, tally: ExampleTally): string | undefined {
  if (typeof example.prompt !== 'string') return mustBeString('prompt', example.prompt)
  if (typeof example.completion !== 'string') return mustBeString('completion', example.completion)
  tally.chars = example.prompt.length + example.completion.length
  return undefined
}

function checkPreferenceExample(example: Record<string, unknown>, tally: ExampleTally): string | undefined {
  const input = example.input
  if (input === undefined) return 'input is missing'
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return `input must be an object with messages, got ${describeType(input)}`
  }
  const inputFields = input as Record<string, unknown>
  return (
    checkKnownKeys(inputFields, isConversationKey, 'input') ??
    checkConversation(inputFields, 'input.', 'preference_input', tally) ??
    checkPreferenceOutput(example, 'preferred_output', 'preferred_completion', tally) ??
    checkPreferenceOutput(example, 'non_preferred_output', 'non_preferred_completion', tally)
  )
}

function checkPreferenceOutput(
  example: Record<string, unknown>,
  name: string,
  legacyName: string,
  tally: ExampleTally,
): string | undefined {
  if (example[name] !== undefined && example[legacyName] !== undefined) {
    return `use either ${name} or ${legacyName}, not both`
  }
  const key = example[name] !== undefined ? name : example[legacyName] !== undefined ? legacyName : undefined
  if (key === undefined) return `${name} is missing`
  const output = example[key]
  if (!Array.isArray(output) || output.length !== 1) {
    return `${key} must be an array holding exactly one assistant message, got ${describeLength(output)}`
  }
  return checkMessage(output[0], key, 0, 'preference_output', tally)
}

function checkKnownKeys(fields: Record<string, unknown>, isKnown: (key: string) => boolean, what: string): string | undefined {
  for (const key in fields) {
    if (!isKnown(key)) return `unknown key '${clip(key)}' in ${what}`
  }
  return undefined
}

function mustBeString(key: string, value: unknown): string {
  return value === undefined ? `${key} is missing` : `${key} must be a string, got ${describeType(value)}`
}

function describeLength(value: unknown): string {
  return Array.isArray(value) ? `an array of ${value.length}` : describeType(value)
}

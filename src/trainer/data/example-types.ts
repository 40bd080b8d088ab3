// Training examples as users upload them (OpenAI fine-tuning JSONL shapes), and their encodings.

export interface ToolCall {
  id?: string
  type?: 'function'
  function: { name: string; arguments: string | Record<string, unknown> }
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer'
  content?: string | null | { type: string; text?: string }[]
  tool_calls?: ToolCall[]
  tool_call_id?: string
  name?: string
  /** Assistant messages only: 0 excludes the message from the loss (OpenAI's `weight`). */
  weight?: 0 | 1
}

/** {"messages": [...], "tools": [...]} */
export interface ChatExample {
  messages: ChatMessage[]
  tools?: unknown[]
}

/** {"prompt": "...", "completion": "..."} */
export interface CompletionExample {
  prompt: string
  completion: string
}

/** OpenAI DPO: {"input": {"messages", "tools"}, "preferred_output": [...], "non_preferred_output": [...]} */
export interface PreferenceExample {
  input: { messages: ChatMessage[]; tools?: unknown[] }
  preferred_output: ChatMessage[]
  non_preferred_output: ChatMessage[]
}

/**
 * One encoded sequence. lossMask[t] = 1 when token t is a training target (predicted from the
 * tokens before it); the trainer shifts by one when it computes next-token loss.
 */
export interface EncodedSequence {
  ids: number[]
  lossMask: number[]
  /** Tokens were cut off at the maximum length. */
  truncated: boolean
}

export interface EncodedPreference {
  chosen: EncodedSequence
  rejected: EncodedSequence
  /** Length of the shared prompt prefix (same tokens at the start of both). */
  promptLength: number
}

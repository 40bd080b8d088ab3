// What serves a Chat Completions or Completions request: the embedded llama.cpp engine, or a
// remote OpenAI-compatible one. Routes see only this interface; both engines produce the same
// stream of generation events, which the routes turn into OpenAI's objects and SSE chunks.
import type { ChatCompletionRequest, FinishReason, TokenLogprob } from '../schemas/chat-completions.ts'
import type { CompletionRequest } from '../schemas/completions.ts'
import type { ServedModel } from './served-model.ts'

export type GenerationEvent =
  /** Generated answer text (never part of a stop sequence or of a tool call). */
  | { type: 'text'; text: string; logprobs?: TokenLogprob[] }
  /** A complete function call (grammar-constrained: `arguments` is valid JSON for the tool's schema). */
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | { type: 'done'; finishReason: FinishReason; promptTokens: number; completionTokens: number }

/** A generation admitted to run: its events, in order, ending with exactly one `done`. */
export type Generation = AsyncIterable<GenerationEvent>

export interface InferenceEngine {
  /**
   * Starts answering a chat. Rejects (an ApiError) before anything is generated when the request
   * cannot run: prompt over the context, a bad schema, a full queue. `signal` aborts at once.
   */
  chat(model: ServedModel, request: ChatCompletionRequest, signal: AbortSignal): Promise<Generation>
  /** Starts continuing a prompt (POST /v1/completions). */
  complete(model: ServedModel, request: CompletionRequest, signal: AbortSignal): Promise<Generation>
  /** Unloads everything; in-flight generations end. */
  close(): Promise<void>
}

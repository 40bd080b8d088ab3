// The embedded engine: llama.cpp in this process (node-llama-cpp, loaded on first use) over the
// model's GGUF, with the chat template the GGUF carries. Grammars enforce response_format and
// tool calls; each model has a bounded queue of requests (429 past it).
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Template } from '@huggingface/jinja'
import type { LlamaGrammar, LlamaModel, Token } from 'node-llama-cpp'
import type { Logger } from 'pino'
import type { InferenceConfig } from '../config/index.ts'
import { ApiError, invalidRequest } from '../lib/errors.ts'
import type { ChatCompletionRequest } from '../schemas/chat-completions.ts'
import type { CompletionRequest } from '../schemas/completions.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { templateMessages, templateTools } from './chat-messages.ts'
import type { Generation, GenerationEvent, InferenceEngine } from './engine.ts'
import { generateTokens, type SamplingSettings } from './generate-tokens.ts'
import { localGguf } from './gguf-file-cache.ts'
import { closedGrammar } from './grammar-text.ts'
import { getLlamaRuntime, llamaModule } from './llama-runtime.ts'
import { ModelPool, type PooledModel } from './model-pool.ts'
import { samplingSettings } from './sampling-settings.ts'
import type { ServedModel } from './served-model.ts'
import { parseToolCalls, toolCallGrammar, toolCallSchema } from './tool-call-grammar.ts'

export interface EmbeddedEngineDeps {
  config: InferenceConfig
  blobs: BlobStore
  /** Where GGUFs are copied to be loaded. */
  cacheDir: string
  log: Logger
}

const templates = new WeakMap<LlamaModel, Template | null>()

function chatTemplate(model: LlamaModel, id: string): Template {
  let template = templates.get(model)
  if (template === undefined) {
    const text = (model.fileInfo.metadata.tokenizer as { chat_template?: unknown } | undefined)?.chat_template
    template = typeof text === 'string' ? new Template(text) : null
    templates.set(model, template)
  }
  if (!template) throw invalidRequest(`The model '${id}' has no chat template; use POST /v1/completions with a plain prompt.`, 'model', 'model_not_supported')
  return template
}

function overContext(param: string, promptTokens: number, contextSize: number): ApiError {
  return invalidRequest(`This model's maximum context length is ${contextSize} tokens. However, your ${param} resulted in ${promptTokens} tokens. Please reduce the length of the ${param}.`, param, 'context_length_exceeded')
}

export class EmbeddedEngine implements InferenceEngine {
  private readonly deps: EmbeddedEngineDeps
  readonly pool: ModelPool
  /** Tokens generated since start, across models (aborted generations count what they made). */
  generatedTokens = 0

  constructor(deps: EmbeddedEngineDeps) {
    this.deps = deps
    this.pool = new ModelPool(deps.config, deps.log)
  }

  private hold(model: ServedModel) {
    return model.ggufKey().then((key) => this.pool.hold(key, () => localGguf(this.deps.blobs, key, join(this.deps.cacheDir))))
  }

  async chat(served: ServedModel, request: ChatCompletionRequest, signal: AbortSignal): Promise<Generation> {
    const { pooled, release } = await this.hold(served)
    try {
      const { model } = pooled
      const tools = request.tool_choice === 'none' ? [] : (request.tools ?? [])
      const text = chatTemplate(model, served.id).render({
        messages: templateMessages(request.messages),
        tools: templateTools(request.tools),
        add_generation_prompt: true,
        bos_token: model.tokens.bosString ?? '',
        eos_token: model.tokens.eosString ?? '',
      })
      // As transformers' apply_chat_template: the template writes the special tokens itself.
      const prompt = model.tokenize(text, true)
      if (prompt.length >= pooled.contextSize) throw overContext('messages', prompt.length, pooled.contextSize)
      const toolMode = tools.length === 0 ? null : request.tool_choice === undefined || request.tool_choice === 'auto' ? 'auto' : 'required'
      const named = typeof request.tool_choice === 'object' ? request.tool_choice.function.name : null
      const callable = named ? tools.filter((t) => t.function.name === named) : tools
      if (named && callable.length === 0) throw invalidRequest(`tool_choice names the function '${named}', which is not in tools.`, 'tool_choice', 'invalid_value')
      const grammar = await this.grammarFor(request, toolMode ? { mode: toolMode, tools: callable } : null)
      const topLogprobs = request.logprobs ? (request.top_logprobs ?? 0) : null
      const settings = samplingSettings(request, { contextSize: pooled.contextSize, promptTokens: prompt.length }, topLogprobs)
      const releaseSlot = await this.pool.slot(pooled, signal)
      return this.run(pooled, prompt, { ...settings, grammar: grammar ? new (await llamaModule()).LlamaGrammarEvaluationState({ model, grammar }) : undefined }, signal, () => {
        releaseSlot()
        release()
      }, toolMode !== null)
    } catch (err) {
      release()
      throw err
    }
  }

  async complete(served: ServedModel, request: CompletionRequest, signal: AbortSignal): Promise<Generation> {
    const { pooled, release } = await this.hold(served)
    try {
      const { model } = pooled
      const text = typeof request.prompt === 'string' ? request.prompt : request.prompt[0]
      // A plain prompt gets the model's BOS when its tokenizer says so, as llama.cpp's own tools do.
      const prompt = model.tokenize(text, false)
      if (model.tokens.shouldPrependBosToken && model.tokens.bos !== null) prompt.unshift(model.tokens.bos)
      if (prompt.length === 0) throw invalidRequest('The prompt is empty.', 'prompt', 'invalid_value')
      if (prompt.length >= pooled.contextSize) throw overContext('prompt', prompt.length, pooled.contextSize)
      const topLogprobs = request.logprobs === undefined || request.logprobs === null ? null : request.logprobs
      const settings = samplingSettings(request, { contextSize: pooled.contextSize, promptTokens: prompt.length }, topLogprobs)
      const releaseSlot = await this.pool.slot(pooled, signal)
      return this.run(pooled, prompt, { ...settings, grammar: undefined }, signal, () => {
        releaseSlot()
        release()
      }, false)
    } catch (err) {
      release()
      throw err
    }
  }

  /** response_format and tools as one grammar (or none). Bad schemas are the caller's 400. */
  private async grammarFor(request: ChatCompletionRequest, tools: { mode: 'auto' | 'required'; tools: NonNullable<ChatCompletionRequest['tools']> } | null): Promise<LlamaGrammar | null> {
    const llama = await getLlamaRuntime(this.deps.log)
    const format = request.response_format
    let textGrammar: string | undefined
    if (format?.type === 'json_object') textGrammar = closedGrammar((await llama.getGrammarFor('json')).grammar)
    if (format?.type === 'json_schema') {
      const schema = format.json_schema.schema ?? { type: 'object' }
      try {
        textGrammar = closedGrammar((await llama.createGrammarForJsonSchema(schema as never)).grammar)
      } catch (err) {
        throw invalidRequest(`Invalid schema for response_format '${format.json_schema.name}': ${(err as Error).message}`, 'response_format.json_schema.schema', 'invalid_value')
      }
    }
    let grammar = textGrammar
    if (tools) {
      let callGrammar: string
      try {
        callGrammar = closedGrammar((await llama.createGrammarForJsonSchema(toolCallSchema(tools.tools) as never)).grammar)
      } catch (err) {
        throw invalidRequest(`Invalid parameters schema in tools: ${(err as Error).message}`, 'tools', 'invalid_value')
      }
      grammar = toolCallGrammar(callGrammar, tools.mode, { parallel: request.parallel_tool_calls !== false, textGrammar })
    }
    if (grammar === undefined) return null
    return llama.createGrammar({ grammar })
  }

  private run(pooled: PooledModel, prompt: Token[], settings: SamplingSettings, signal: AbortSignal, done: () => void, withTools: boolean): Generation {
    const { model, context } = pooled
    const sequence = context.getSequence()
    const counted = (n: number) => {
      this.generatedTokens += n
    }
    let cleaned = false
    const cleanup = async () => {
      if (cleaned) return
      cleaned = true
      await sequence.dispose()
      done()
    }
    const inner = (async function* (): AsyncGenerator<GenerationEvent> {
      try {
        const loop = generateTokens(model, sequence, prompt, settings, signal)
        // With tools, an answer that starts with "<" is a tool call: held back, then parsed.
        let held: string | null = withTools ? '' : null
        let step = await loop.next()
        while (!step.done) {
          const event = step.value
          if (held !== null) {
            held += event.text
            if (held.trimStart() !== '' && !held.trimStart().startsWith('<')) {
              yield { type: 'text', text: held, ...(event.logprobs ? { logprobs: event.logprobs } : {}) }
              held = null
            }
          } else {
            yield event
          }
          step = await loop.next()
        }
        const end = step.value
        counted(end.completionTokens)
        const calls = held !== null ? parseToolCalls(held) : null
        if (calls) {
          for (const call of calls) yield { type: 'tool_call', id: `call_${randomBytes(12).toString('base64url')}`, name: call.name, arguments: call.arguments }
        } else if (held) {
          yield { type: 'text', text: held }
        }
        yield { type: 'done', finishReason: calls ? 'tool_calls' : end.finishReason, promptTokens: prompt.length, completionTokens: end.completionTokens }
      } finally {
        await cleanup()
      }
    })()
    // Whoever stops early calls return(): the slot is freed even if iteration never began.
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => inner.next(),
        return: async () => {
          await inner.return(undefined)
          await cleanup()
          return { done: true as const, value: undefined }
        },
      }),
    }
  }

  async close(): Promise<void> {
    await this.pool.close()
  }
}

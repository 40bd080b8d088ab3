// The remote engine: an OpenAI-compatible server (vLLM, llama.cpp's llama-server) does the
// generating; Skillet forwards each request under the engine's name for the model, always as a
// stream (with usage), and turns the engine's chunks back into generation events. With vLLM a
// fine-tuned model is a LoRA adapter of its base model, copied to a shared folder and loaded once
// through vLLM's POST /v1/load_lora_adapter. The engine's errors keep OpenAI's envelope.
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Logger } from 'pino'
import type { InferenceConfig } from '../config/index.ts'
import { ApiError, invalidRequest } from '../lib/errors.ts'
import type { ChatCompletionRequest, FinishReason, TokenLogprob } from '../schemas/chat-completions.ts'
import type { CompletionRequest } from '../schemas/completions.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import type { Generation, GenerationEvent, InferenceEngine } from './engine.ts'
import type { ServedModel } from './served-model.ts'
import { sseData } from './sse-reader.ts'

export interface RemoteEngineDeps {
  config: InferenceConfig & { url: string }
  blobs: BlobStore
  log: Logger
}

interface UpstreamChunk {
  choices?: {
    delta?: { content?: string | null; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] }
    text?: string
    logprobs?: { content?: TokenLogprob[] | null; tokens?: string[]; token_logprobs?: number[]; top_logprobs?: Record<string, number>[] } | null
    finish_reason?: string | null
  }[]
  usage?: { prompt_tokens: number; completion_tokens: number } | null
  error?: { message?: string }
}

/** Legacy completions logprobs → the chat shape events carry. */
function fromLegacy(lp: NonNullable<NonNullable<UpstreamChunk['choices']>[number]['logprobs']>): TokenLogprob[] {
  return (lp.tokens ?? []).map((token, i) => ({
    token,
    logprob: lp.token_logprobs?.[i] ?? 0,
    bytes: [...Buffer.from(token)],
    top_logprobs: Object.entries(lp.top_logprobs?.[i] ?? {}).map(([t, l]) => ({ token: t, logprob: l, bytes: [...Buffer.from(t)] })),
  }))
}

export class RemoteEngine implements InferenceEngine {
  private readonly deps: RemoteEngineDeps
  private readonly loadedAdapters = new Map<string, Promise<void>>()

  constructor(deps: RemoteEngineDeps) {
    this.deps = deps
  }

  private url(path: string): string {
    return `${this.deps.config.url.replace(/\/+$/, '')}${path}`
  }

  private headers(): Record<string, string> {
    return { 'content-type': 'application/json', ...(this.deps.config.apiKey ? { authorization: `Bearer ${this.deps.config.apiKey}` } : {}) }
  }

  /** The engine's name for the model, loading its adapter first where the engine needs that. */
  private async engineModel(served: ServedModel): Promise<string> {
    if (served.id === served.baseModel || this.deps.config.engineKind !== 'vllm') return served.id
    if (!served.adapterPrefix) throw invalidRequest(`The model '${served.id}' has no LoRA adapter (a full fine-tune) and cannot be served by the vLLM engine as one.`, 'model', 'model_not_supported')
    let loading = this.loadedAdapters.get(served.id)
    if (!loading) {
      loading = this.loadAdapter(served.id, served.adapterPrefix)
      this.loadedAdapters.set(served.id, loading)
      loading.catch(() => this.loadedAdapters.delete(served.id))
    }
    await loading
    return served.id
  }

  private async loadAdapter(name: string, prefix: string): Promise<void> {
    const dir = join(this.deps.config.adapterDir, name.replace(/[^A-Za-z0-9._-]+/g, '_'))
    const tmp = `${dir}.tmp-${process.pid}`
    await rm(tmp, { recursive: true, force: true })
    await mkdir(tmp, { recursive: true })
    for (const blob of await this.deps.blobs.list(prefix)) {
      const file = blob.key.slice(prefix.length)
      if (file.includes('/') || !/^(adapter_|tokenizer|special_tokens|chat_template|vocab|merges)/.test(file)) continue
      await pipeline(await this.deps.blobs.get(blob.key), createWriteStream(join(tmp, file)))
    }
    await rm(dir, { recursive: true, force: true })
    await rename(tmp, dir)
    const res = await fetch(this.url('/load_lora_adapter'), { method: 'POST', headers: this.headers(), body: JSON.stringify({ lora_name: name, lora_path: dir }) })
    // vLLM answers 400 "already loaded" for an adapter another replica (or an earlier run) loaded.
    if (!res.ok && !/already/i.test(await res.text())) throw new ApiError(502, `The inference engine could not load the adapter of '${name}' (HTTP ${res.status}).`, { type: 'server_error', code: 'engine_error' })
    this.deps.log.info({ model: name, dir }, 'LoRA adapter loaded into the inference engine')
  }

  private async forward(path: string, served: ServedModel, body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    const model = await this.engineModel(served)
    let res: Response
    try {
      res = await fetch(this.url(path), { method: 'POST', headers: this.headers(), body: JSON.stringify({ ...body, model, stream: true, stream_options: { include_usage: true } }), signal })
    } catch (err) {
      signal.throwIfAborted()
      this.deps.log.error({ err }, 'inference engine unreachable')
      throw new ApiError(502, 'The inference engine could not be reached; please retry shortly.', { type: 'server_error', code: 'engine_unavailable' })
    }
    if (res.ok && res.body) return res
    const text = await res.text()
    let upstream: { error?: { message?: unknown; param?: unknown; code?: unknown; type?: unknown } } = {}
    try {
      upstream = JSON.parse(text)
    } catch {}
    const e = upstream.error ?? {}
    const message = typeof e.message === 'string' ? e.message : `The inference engine answered HTTP ${res.status}.`
    // The caller's mistakes (4xx) pass through as they are; the engine's own failures are a 502.
    if (res.status >= 400 && res.status < 500) {
      return Promise.reject(new ApiError(res.status === 404 ? 400 : res.status, message, {
        param: typeof e.param === 'string' ? e.param : null,
        code: typeof e.code === 'string' ? e.code : null,
        type: typeof e.type === 'string' && res.status !== 404 ? e.type : undefined,
        headers: res.headers.get('retry-after') ? { 'retry-after': res.headers.get('retry-after')! } : {},
      }))
    }
    this.deps.log.error({ status: res.status, message }, 'inference engine failed')
    throw new ApiError(502, `The inference engine failed: ${message}`, { type: 'server_error', code: 'engine_error' })
  }

  async chat(served: ServedModel, request: ChatCompletionRequest, signal: AbortSignal): Promise<Generation> {
    const res = await this.forward('/chat/completions', served, request, signal)
    return this.events(res, signal)
  }

  async complete(served: ServedModel, request: CompletionRequest, signal: AbortSignal): Promise<Generation> {
    const res = await this.forward('/completions', served, request, signal)
    return this.events(res, signal)
  }

  private async *events(res: Response, signal: AbortSignal): AsyncGenerator<GenerationEvent> {
    const calls: { id: string; name: string; arguments: string }[] = []
    let finishReason: FinishReason = 'stop'
    let usage = { prompt_tokens: 0, completion_tokens: 0 }
    for await (const data of sseData(res.body!, signal)) {
      const chunk = data as UpstreamChunk
      if (chunk.error) throw new ApiError(502, `The inference engine failed mid-stream: ${chunk.error.message ?? 'unknown error'}`, { type: 'server_error', code: 'engine_error' })
      if (chunk.usage) usage = chunk.usage
      const choice = chunk.choices?.[0]
      if (!choice) continue
      const text = choice.delta?.content ?? choice.text
      const logprobs = choice.logprobs?.content ?? (choice.logprobs?.tokens ? fromLegacy(choice.logprobs) : undefined)
      if (text || logprobs?.length) yield { type: 'text', text: text ?? '', ...(logprobs ? { logprobs } : {}) }
      for (const call of choice.delta?.tool_calls ?? []) {
        const slot = (calls[call.index] ??= { id: '', name: '', arguments: '' })
        if (call.id) slot.id = call.id
        if (call.function?.name) slot.name += call.function.name
        if (call.function?.arguments) slot.arguments += call.function.arguments
      }
      if (choice.finish_reason === 'length' || choice.finish_reason === 'tool_calls' || choice.finish_reason === 'stop') finishReason = choice.finish_reason
    }
    for (const call of calls) if (call) yield { type: 'tool_call', ...call }
    yield { type: 'done', finishReason, promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens }
  }

  async close(): Promise<void> {}
}

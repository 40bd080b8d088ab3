// A small OpenAI-compatible inference server in a child process, standing in for vLLM or
// llama-server in the remote-engine tests: it generates for real with the embedded llama.cpp
// engine, speaks OpenAI's /v1/chat/completions and /v1/completions (JSON or SSE), wants a bearer
// key, and implements vLLM's POST /v1/load_lora_adapter (it checks the adapter folder holds
// adapter_config.json, then serves the adapter's name with its base model's weights — llama.cpp
// cannot apply a PEFT adapter, so this checks the protocol, not the adapter's effect).
// Usage: node loopback-engine-main.ts <config.json>; prints {"port": N} on stdout; appends every
// request as a JSON line to config.requestLog.
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import pino from 'pino'
import { loadConfig } from '../../src/config/index.ts'
import { chatCompletionChunks, collectChatCompletion } from '../../src/inference/chat-completion-objects.ts'
import { collectTextCompletion, textCompletionChunks } from '../../src/inference/completion-objects.ts'
import { EmbeddedEngine } from '../../src/inference/embedded-engine.ts'
import type { ServedModel } from '../../src/inference/served-model.ts'
import { ApiError } from '../../src/lib/errors.ts'
import { SseWriter } from '../../src/lib/server-sent-events.ts'
import { createBlobStore } from '../../src/storage/index.ts'

interface LoopbackConfig {
  apiKey: string
  /** Folder holding the GGUFs; models maps a served name to a file name in it. */
  root: string
  models: Record<string, string>
  /** The base model loaded LoRA adapters run on. */
  loraBase: string
  requestLog: string
}

const config = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoopbackConfig
const models = new Map(Object.entries(config.models))
const inference = loadConfig({ SKILLET_INFERENCE_THREADS: '1' }).inference
const engine = new EmbeddedEngine({ config: inference, blobs: createBlobStore({ kind: 'fs', root: config.root }), cacheDir: join(config.root, 'cache'), log: pino({ level: 'silent' }) })

const served = (name: string): ServedModel | null => {
  const file = models.get(name)
  return file ? { id: name, baseModel: name, adapterPrefix: null, ggufKey: async () => file } : null
}

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : {}
  appendFileSync(config.requestLog, JSON.stringify({ path: req.url, body }) + '\n')
  const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
  if (req.headers.authorization !== `Bearer ${config.apiKey}`) return send(401, { error: { message: 'bad key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })
  try {
    if (req.url === '/v1/load_lora_adapter') {
      const { lora_name: name, lora_path: path } = body as { lora_name: string; lora_path: string }
      if (models.has(name)) return send(400, { error: { message: `The lora adapter '${name}' has already been loaded.`, type: 'InvalidUserInput', param: null, code: 400 } })
      if (!existsSync(join(path, 'adapter_config.json'))) return send(400, { error: { message: `No adapter found at ${path}`, type: 'InvalidUserInput', param: null, code: 400 } })
      models.set(name, config.models[config.loraBase])
      return res.writeHead(200).end(`Success: LoRA adapter '${name}' added successfully.`)
    }
    const chat = req.url === '/v1/chat/completions'
    if (!chat && req.url !== '/v1/completions') return send(404, { error: { message: 'not found', type: 'NotFoundError', param: null, code: 404 } })
    const model = served(String(body.model))
    if (!model) return send(404, { error: { message: `The model \`${String(body.model)}\` does not exist.`, type: 'NotFoundError', param: null, code: 404 } })
    const abort = new AbortController()
    res.once('close', () => abort.abort())
    const generation = chat ? await engine.chat(model, body as never, abort.signal) : await engine.complete(model, body as never, abort.signal)
    const who = { id: `loopback-${Date.now()}`, created: Math.floor(Date.now() / 1000), model: model.id }
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true
    if (!body.stream) return send(200, chat ? await collectChatCompletion(who, generation, body.logprobs === true) : await collectTextCompletion(who, generation, body.logprobs != null))
    const sse = new SseWriter(res, {})
    const stream = chat ? chatCompletionChunks(who, generation, { withLogprobs: body.logprobs === true, includeUsage }) : textCompletionChunks(who, generation, { withLogprobs: body.logprobs != null, includeUsage })
    for await (const chunk of stream) if (!(await sse.send(chunk))) break
    await sse.done()
  } catch (err) {
    if (err instanceof ApiError) return send(err.status, err.toBody())
    send(500, { error: { message: String(err), type: 'server_error', param: null, code: null } })
  }
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\n')
})
process.on('SIGTERM', () => {
  server.close()
  void engine.close().then(() => process.exit(0))
})

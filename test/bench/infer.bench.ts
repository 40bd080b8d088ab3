// npm run bench:infer — generation speed through POST /v1/chat/completions (streamed) beside
// node-llama-cpp called directly on the same GGUF, in the same run and process: tokens/s and time
// to first token at 1 and 8 concurrent streams (target: the API reaches ≥ 0.9 of direct), and the
// process's RSS with 1 and 3 models loaded. The model is a generated tiny Llama (BENCH_HIDDEN wide,
// BENCH_LAYERS layers) exported to F16 GGUF by the trainer's own export; greedy decoding.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config/index.ts'
import { openDatabase } from '../../src/db/database.ts'
import { baseModelGguf } from '../../src/inference/base-model-gguf.ts'
import { getLlamaRuntime } from '../../src/inference/llama-runtime.ts'
import { createAppServices } from '../../src/services/app-services.ts'
import { createApiKey } from '../../src/services/projects.ts'
import { createBlobStore } from '../../src/storage/index.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'

const TOKENS = Number(process.env.BENCH_TOKENS ?? 64)
const HIDDEN = Number(process.env.BENCH_HIDDEN ?? 256)
const LAYERS = Number(process.env.BENCH_LAYERS ?? 4)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
// llama.cpp's threads spin while they wait for each other: on a busy machine more threads than free cores is far slower.
const THREADS = Number(process.env.BENCH_THREADS ?? 1)
const PROMPT = 'Tell me a story about the sea and the stars'

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skillet-bench-infer-'))
const ids = ['bench-a', 'bench-b', 'bench-c']
for (const [i, id] of ids.entries()) {
  await makeTinyModel({ architecture: 'llama', dir: path.join(dir, id), seed: i, hiddenSize: HIDDEN, numLayers: LAYERS, numHeads: 8, numKvHeads: 8, intermediateSize: HIDDEN * 3, maxPositions: 1024, initStd: 0.1 })
}
const env = {
  SKILLET_DATA_DIR: path.join(dir, 'data'),
  SKILLET_LOG_LEVEL: 'silent',
  SKILLET_BASE_MODELS: ids.map((id) => `${id}=${path.join(dir, id)}`).join(','),
  SKILLET_INFERENCE_MAX_LOADED_MODELS: '3',
  SKILLET_INFERENCE_PARALLEL: '8',
  SKILLET_INFERENCE_CONTEXT_SIZE: '1024',
  SKILLET_INFERENCE_THREADS: String(THREADS),
  SKILLET_RATE_LIMIT_PER_MINUTE: '1000000',
}
const config = loadConfig(env)
const log = pino({ level: 'silent' })
const database = await openDatabase({ driver: 'pglite' })
await database.migrate()
const blobs = createBlobStore({ kind: 'fs', root: path.join(config.dataDir, 'blobs') })
const services = createAppServices({ config, database, blobs, log })
const app = await buildApp({ services, logger: log })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`
const { key } = await createApiKey(database.db, { project: 'bench', isAdmin: true })
const rssMiB = () => process.memoryUsage().rss / 2 ** 20

interface Run { ttftMs: number; tokens: number; ms: number }

/** One streamed chat completion through the API: time to the first content chunk, tokens, total time. */
async function viaApi(model: string): Promise<Run> {
  const t0 = performance.now()
  const res = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: PROMPT }], max_tokens: TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  })
  let ttft = 0
  let tokens = 0
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk, { stream: true })
    if (!ttft && text.includes('"content":"') && /"delta":\{"content":"/.test(text)) ttft = performance.now() - t0
  }
  const usage = /"usage":\{"prompt_tokens":\d+,"completion_tokens":(\d+)/.exec(text)
  tokens = usage ? Number(usage[1]) : 0
  return { ttftMs: ttft, tokens, ms: performance.now() - t0 }
}

console.log(`bench:infer — tiny Llama ${HIDDEN} wide, ${LAYERS} layers, F16 GGUF; ${TOKENS} tokens per answer, greedy; ${THREADS || 'default'} llama.cpp thread(s); ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`)
console.log(`RSS before any model: ${rssMiB().toFixed(0)} MiB`)
await viaApi(ids[0])
console.log(`RSS with 1 model loaded: ${rssMiB().toFixed(0)} MiB`)
await viaApi(ids[1])
await viaApi(ids[2])
console.log(`RSS with 3 models loaded: ${rssMiB().toFixed(0)} MiB`)

// The same GGUF, loaded directly with node-llama-cpp with the pool's settings.
const ggufKey = await baseModelGguf({ db: database.db, blobs, baseModels: config.jobs.baseModels, hubEndpoint: config.jobs.hubEndpoint, hubToken: undefined, log, workDir: dir }, ids[0])
const ggufPath = path.join(config.dataDir, 'blobs', ggufKey)
const llama = await getLlamaRuntime(log)
const model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 })
const context = await model.createContext({ contextSize: 1024, sequences: 8, batchSize: 512, ...(THREADS > 0 ? { threads: THREADS } : {}) })
const { Template } = await import('@huggingface/jinja')
const template = new Template(String((model.fileInfo.metadata.tokenizer as { chat_template?: unknown }).chat_template))
const promptTokens = model.tokenize(template.render({ messages: [{ role: 'user', content: PROMPT }], add_generation_prompt: true, bos_token: model.tokens.bosString ?? '', eos_token: model.tokens.eosString ?? '' }), true)

async function direct(): Promise<Run> {
  const t0 = performance.now()
  const sequence = context.getSequence()
  let ttft = 0
  let tokens = 0
  try {
    for await (const token of sequence.evaluate(promptTokens, { temperature: 0, topK: 0, topP: 1, yieldEogToken: true })) {
      if (!ttft) ttft = performance.now() - t0
      tokens++
      if (model.isEogToken(token) || tokens >= TOKENS) break
    }
  } finally {
    await sequence.dispose()
  }
  return { ttftMs: ttft, tokens, ms: performance.now() - t0 }
}

async function measure(streams: number, one: () => Promise<Run>) {
  const started = performance.now()
  const runs = await Promise.all(Array.from({ length: streams }, one))
  const seconds = (performance.now() - started) / 1000
  const tokens = runs.reduce((n, r) => n + r.tokens, 0)
  return { tokensPerSecond: tokens / seconds, ttftMs: runs.reduce((n, r) => n + r.ttftMs, 0) / runs.length, tokens }
}

for (const streams of [1, 8]) {
  const api = { tps: 0, ttft: 0 }
  const dir = { tps: 0, ttft: 0 }
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first, so the machine's other load falls on both alike.
    const order = round % 2 === 0 ? ['api', 'direct'] : ['direct', 'api']
    for (const who of order) {
      const r = who === 'api' ? await measure(streams, () => viaApi(ids[0])) : await measure(streams, direct)
      const into = who === 'api' ? api : dir
      into.tps += r.tokensPerSecond / ROUNDS
      into.ttft += r.ttftMs / ROUNDS
    }
  }
  console.log(`${streams} stream${streams > 1 ? 's' : ''}: API ${api.tps.toFixed(0)} tokens/s, TTFT ${api.ttft.toFixed(1)} ms | direct ${dir.tps.toFixed(0)} tokens/s, TTFT ${dir.ttft.toFixed(1)} ms | API/direct ${(api.tps / dir.tps).toFixed(2)}`)
}

await context.dispose()
await model.dispose()
await app.close()
await database.close()
await fs.rm(dir, { recursive: true, force: true })

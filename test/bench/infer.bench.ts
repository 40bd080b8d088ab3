// npm run bench:infer — generation speed through POST /v1/chat/completions (streamed) beside
// node-llama-cpp called directly on the same GGUF, in the same run and process: tokens/s and time
// to first token at 1 and 8 concurrent streams (target: the API reaches ≥ 0.9 of direct), and the
// process's RSS with 1 and 3 models loaded. The model is a generated tiny Llama (BENCH_HIDDEN wide,
// BENCH_LAYERS layers) exported to F16 GGUF by the trainer's own export; greedy decoding.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config/index.ts'
import { openDatabase } from '../../src/db/database.ts'
import { baseModelGguf } from '../../src/inference/base-model-gguf.ts'
import type { LlamaContextSequence } from 'node-llama-cpp'
import { generateTokens } from '../../src/inference/generate-tokens.ts'
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

// The API's client runs in a worker thread, as a real client is another process: its HTTP parsing
// must not share the event loop that serves the stream (the direct path has no client at all).
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads')
parentPort.on('message', async ({ id, model }) => {
  const t0 = performance.now()
  const res = await fetch(workerData.base + '/chat/completions', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + workerData.key, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: workerData.prompt }], max_tokens: workerData.tokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  })
  let ttft = 0
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of res.body) {
    text += decoder.decode(chunk, { stream: true })
    if (!ttft && /"delta":\\{"content":"/.test(text)) ttft = performance.now() - t0
  }
  const usage = /"usage":\\{"prompt_tokens":\\d+,"completion_tokens":(\\d+)/.exec(text)
  parentPort.postMessage({ id, ttftMs: ttft, tokens: usage ? Number(usage[1]) : 0, ms: performance.now() - t0 })
})
`
const client = new Worker(CLIENT, { eval: true, workerData: { base, key, prompt: PROMPT, tokens: TOKENS } })
client.unref()
const waiting = new Map<number, (r: Run) => void>()
client.on('message', (m: Run & { id: number }) => waiting.get(m.id)?.(m))
let nextId = 0

/** One streamed chat completion through the API: time to the first content chunk, tokens, total time. */
function viaApi(model: string): Promise<Run> {
  const id = nextId++
  return new Promise((resolve) => {
    waiting.set(id, (r) => {
      waiting.delete(id)
      resolve(r)
    })
    client.postMessage({ id, model })
  })
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

/** Times one generation on a fresh sequence of the shared context: `generate` calls `first()` at its first token and returns its token count. */
async function onSequence(generate: (sequence: LlamaContextSequence, first: () => void) => Promise<number>): Promise<Run> {
  const t0 = performance.now()
  const sequence = context.getSequence()
  let ttft = 0
  try {
    const tokens = await generate(sequence, () => {
      if (!ttft) ttft = performance.now() - t0
    })
    return { ttftMs: ttft, tokens, ms: performance.now() - t0 }
  } finally {
    await sequence.dispose()
  }
}

/** node-llama-cpp called directly. */
const direct = () =>
  onSequence(async (sequence, first) => {
    let tokens = 0
    for await (const token of sequence.evaluate(promptTokens, { temperature: 0, topK: 0, topP: 1, yieldEogToken: true })) {
      first()
      tokens++
      if (model.isEogToken(token) || tokens >= TOKENS) break
    }
    return tokens
  })

/** The API's own token loop on the same context, without HTTP: where the API's overhead sits. */
const loopOnly = () =>
  onSequence(async (sequence, first) => {
    const loop = generateTokens(model, sequence, promptTokens, { maxTokens: TOKENS, temperature: 0, topP: 1, seed: undefined, frequencyPenalty: 0, presencePenalty: 0, stop: [], topLogprobs: null, grammar: undefined }, new AbortController().signal)
    let step = await loop.next()
    while (!step.done) {
      first()
      step = await loop.next()
    }
    return step.value.completionTokens
  })

async function measure(streams: number, one: () => Promise<Run>) {
  const started = performance.now()
  const runs = await Promise.all(Array.from({ length: streams }, one))
  const seconds = (performance.now() - started) / 1000
  const tokens = runs.reduce((n, r) => n + r.tokens, 0)
  return { tokensPerSecond: tokens / seconds, ttftMs: runs.reduce((n, r) => n + r.ttftMs, 0) / runs.length, tokens }
}

for (const streams of [1, 8]) {
  const sum = { api: { tps: 0, ttft: 0 }, loop: { tps: 0, ttft: 0 }, direct: { tps: 0, ttft: 0 } }
  const contenders = { api: () => viaApi(ids[0]), loop: loopOnly, direct }
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate who goes first, so the machine's other load falls on all alike.
    const order = (['api', 'loop', 'direct'] as const).map((_, i, all) => all[(i + round) % all.length])
    for (const who of order) {
      const r = await measure(streams, contenders[who])
      sum[who].tps += r.tokensPerSecond / ROUNDS
      sum[who].ttft += r.ttftMs / ROUNDS
    }
  }
  const { api, loop, direct: dir } = sum
  console.log(`${streams} stream${streams > 1 ? 's' : ''}: API ${api.tps.toFixed(0)} tokens/s, TTFT ${api.ttft.toFixed(1)} ms | token loop without HTTP ${loop.tps.toFixed(0)} tokens/s | direct ${dir.tps.toFixed(0)} tokens/s, TTFT ${dir.ttft.toFixed(1)} ms | API/direct ${(api.tps / dir.tps).toFixed(2)}`)
}

await context.dispose()
await model.dispose()
await app.close()
await database.close()
await client.terminate()
await fs.rm(dir, { recursive: true, force: true })

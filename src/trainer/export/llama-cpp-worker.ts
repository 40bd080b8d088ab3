// Child-process side of llama-cpp-logits.ts: loads a GGUF with node-llama-cpp (CPU prebuilt) and
// evaluates tokens. It runs in its own process because llama.cpp aborts the whole process on
// some malformed files, and its real load error arrives through the logger, not the exception.
//
// Usage: node llama-cpp-worker.ts <request.json> <output dir>
//   request: {jobs: [{modelPath, tokens, mode: 'logits' | 'generate' | 'tokenize', maxTokens?, texts?}]}
//   writes, per job i: result-i.json {vocabSize?, positions, generated?, tokenized?} and, for 'logits',
//   logits-i.bin (f32, [positions, vocabSize], one row per input position).
// Several jobs share one process because starting node-llama-cpp costs seconds.
import { open, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true'
const { getLlama, LlamaLogLevel } = await import('node-llama-cpp')
type Token = import('node-llama-cpp').Token
type EvaluateItem = import('node-llama-cpp').ControlledEvaluateInputItem

interface WorkerJob {
  modelPath: string
  tokens: number[]
  mode: 'logits' | 'generate' | 'tokenize'
  maxTokens?: number
  /** For 'tokenize': the strings to tokenise (no special tokens added or parsed). */
  texts?: string[]
}

const [requestPath, outDir] = process.argv.slice(2)
const { jobs } = JSON.parse(await readFile(requestPath, 'utf8')) as { jobs: WorkerJob[] }

// llama.cpp explains load failures only in its log, and may abort() right after: forward every
// line to stderr at once so the parent has it even when this process dies.
const llama = await getLlama({
  gpu: false,
  build: 'never',
  usePrebuiltBinaries: true,
  logLevel: LlamaLogLevel.warn,
  logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`),
})

let current = ''
try {
  // Consecutive jobs on one file share its loaded model and context (a load costs more than a
  // short evaluation); each job starts from an empty sequence.
  let loaded: Loaded | null = null
  for (const [index, job] of jobs.entries()) {
    current = job.modelPath
    if (loaded?.path !== job.modelPath) {
      await loaded?.dispose()
      let end = index
      while (end < jobs.length && jobs[end].modelPath === job.modelPath) end++
      loaded = await load(job.modelPath, Math.max(...jobs.slice(index, end).map((j) => j.tokens.length + (j.maxTokens ?? 0) + 1)))
    }
    await runJob(loaded, job, index)
  }
  await loaded?.dispose()
} catch (error) {
  process.stderr.write(`${current}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
// llama.cpp's threads can keep the event loop alive after a failed load; leave explicitly
// (stderr to a pipe is synchronous on Linux, so nothing written above is lost).
process.exit()

/**
 * node-llama-cpp's own GGUF reader can spin for minutes on a file that is not GGUF at all, before
 * llama.cpp ever sees it; a glance at the header turns that into an immediate, clear error.
 */
async function checkGgufHeader(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    const header = new Uint8Array(24)
    const { bytesRead } = await handle.read(header, 0, 24, 0)
    const view = new DataView(header.buffer)
    const magic = new TextDecoder().decode(header.subarray(0, 4))
    if (bytesRead < 24 || magic !== 'GGUF') throw new Error(`not a GGUF file (magic ${JSON.stringify(magic)})`)
    const version = view.getUint32(4, true)
    if (version !== 2 && version !== 3) throw new Error(`unsupported GGUF version ${version}`)
    const { size } = await handle.stat()
    const tensors = view.getBigUint64(8, true)
    const keys = view.getBigUint64(16, true)
    if (tensors > BigInt(size) || keys > BigInt(size)) throw new Error(`corrupt GGUF header (${tensors} tensors, ${keys} keys in ${size} bytes)`)
  } finally {
    await handle.close()
  }
}

interface Loaded {
  path: string
  model: import('node-llama-cpp').LlamaModel
  context: import('node-llama-cpp').LlamaContext
  dispose(): Promise<void>
}

async function load(path: string, longest: number): Promise<Loaded> {
  await checkGgufHeader(path)
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
  const contextSize = Math.max(32, longest)
  const context = await model.createContext({
    contextSize,
    batchSize: contextSize,
    flashAttention: false,
    // The default F16 cache would round K and V; golden tests compare at f32 precision.
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
    threads: 2,
  })
  return { path, model, context, dispose: async () => { await context.dispose(); await model.dispose() } }
}

async function runJob({ model, context }: Loaded, job: WorkerJob, index: number): Promise<void> {
  const positions = job.tokens.length
  if (job.mode === 'tokenize') {
    const tokenized = (job.texts ?? []).map((text) => model.tokenize(text, false).map(Number))
    await writeFile(join(outDir, `result-${index}.json`), JSON.stringify({ positions, tokenized }))
    return
  }
  const sequence = context.getSequence()
  if (job.mode === 'logits') {
    const results = await sequence.controlledEvaluate(job.tokens.map((t): EvaluateItem => [t as Token, { generateNext: { logits: true } }]))
    // Every vocabulary entry comes back for every position; the largest id tells the size.
    let vocab = 0
    for (const result of results) for (const token of result?.next.logits?.keys() ?? []) vocab = Math.max(vocab, token + 1)
    const logits = new Float32Array(positions * vocab).fill(NaN)
    results.forEach((result, position) => {
      for (const [token, value] of result?.next.logits ?? []) logits[position * vocab + token] = value
    })
    await writeFile(join(outDir, `logits-${index}.bin`), new Uint8Array(logits.buffer))
    await writeFile(join(outDir, `result-${index}.json`), JSON.stringify({ vocabSize: vocab, positions }))
  } else {
    const generated: number[] = []
    const maxTokens = job.maxTokens ?? 16
    for await (const token of sequence.evaluate(job.tokens as Token[], { temperature: 0 })) {
      if (model.isEogToken(token)) break
      generated.push(token)
      if (generated.length >= maxTokens) break
    }
    await writeFile(join(outDir, `result-${index}.json`), JSON.stringify({ positions, generated }))
  }
  sequence.dispose()
}

// Runs llama.cpp (node-llama-cpp's CPU build) on GGUF files in a child process and returns its
// logits per position, or a greedy continuation. Used to prove that exported files load and
// compute what our model computes. A child process, because llama.cpp abort()s on some
// malformed files, and its explanation arrives through its log rather than the thrown error.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('./llama-cpp-worker.ts', import.meta.url))

export interface LlamaCppOptions {
  /** Kill the child after this long (ms). Default 120 s. */
  timeoutMs?: number
}

export interface LogitsJob {
  modelPath: string
  tokens: number[]
}

interface WorkerJob extends LogitsJob {
  mode: 'logits' | 'generate' | 'tokenize'
  maxTokens?: number
  texts?: string[]
}

interface WorkerResult {
  vocabSize?: number
  positions: number
  generated?: number[]
  tokenized?: number[][]
}

/** The llama.cpp log lines that explain a failure (errors first, then the tail). */
function explain(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '')
  const errors = lines.filter((line) => /error|failed|exception|abort|GGML_ASSERT/i.test(line))
  return [...new Set([...errors.slice(-10), ...lines.slice(-5)])].join('\n').slice(-4000)
}

async function runWorker<T>(jobs: WorkerJob[], options: LlamaCppOptions, collect: (dir: string, results: WorkerResult[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'skillet-llama-cpp-'))
  try {
    const requestPath = join(dir, 'request.json')
    await writeFile(requestPath, JSON.stringify({ jobs }))
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [WORKER, requestPath, dir],
        { env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
        (error, _stdout, stderr) => {
          if (!error) return resolve()
          const why = error.signal ? `killed by ${error.signal}` : `exit code ${String(error.code)}`
          reject(new Error(`llama.cpp failed (${why}): ${explain(stderr)}`))
        },
      )
    })
    const results = await Promise.all(jobs.map(async (_, i) => JSON.parse(await readFile(join(dir, `result-${i}.json`), 'utf8')) as WorkerResult))
    return await collect(dir, results)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * llama.cpp's logits after each input token (row t scores the token at position t + 1), for
 * several models/inputs in one child process.
 */
export async function llamaCppLogitsMany(jobs: LogitsJob[], options: LlamaCppOptions = {}): Promise<Float32Array[][]> {
  return runWorker(
    jobs.map((job) => ({ ...job, mode: 'logits' as const })),
    options,
    async (dir, results) =>
      Promise.all(
        results.map(async (result, i) => {
          const bytes = await readFile(join(dir, `logits-${i}.bin`))
          const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
          const vocab = result.vocabSize ?? 0
          return Array.from({ length: result.positions }, (_, t) => all.slice(t * vocab, (t + 1) * vocab))
        }),
      ),
  )
}

export async function llamaCppLogits(modelPath: string, tokens: number[], options: LlamaCppOptions = {}): Promise<Float32Array[]> {
  return (await llamaCppLogitsMany([{ modelPath, tokens }], options))[0]
}

/** Greedy (temperature 0) continuation of `tokens`, stopping at an end-of-generation token. */
export async function llamaCppGenerate(modelPath: string, tokens: number[], maxTokens: number, options: LlamaCppOptions = {}): Promise<number[]> {
  return runWorker([{ modelPath, tokens, mode: 'generate', maxTokens }], options, async (_, results) => results[0].generated ?? [])
}

/** llama.cpp's tokenisation of each text with the GGUF's own vocabulary (no special tokens added or parsed). */
export async function llamaCppTokenize(modelPath: string, texts: string[], options: LlamaCppOptions = {}): Promise<number[][]> {
  return runWorker([{ modelPath, tokens: [], mode: 'tokenize', texts }], options, async (_, results) => results[0].tokenized ?? [])
}

// PyTorch beside Skillet in `npm run bench:train -- --vs-torch`: finds a python3 that imports
// torch (BENCH_PYTHON, else `python3`, else /usr/bin/python3 — Debian's python3-torch installs
// there, while a pyenv or venv python3 earlier on the PATH may lack it) and runs
// torch_llama_steps.py, the same model and training step, as a child process. PyTorch is never
// a dependency of the project: without it the bench prints one line saying it skipped.
//
// Debian's python3-torch computes its matmuls through whichever BLAS the libblas.so.3
// alternative names; with only the reference BLAS (libblas3) it reaches ~1 GFLOP/s. Install
// libopenblas0-pthread beside it for a fair yardstick (the bench prints PyTorch's GFLOP/s).
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SCRIPT = path.join(import.meta.dirname, 'torch_llama_steps.py')

export async function findTorch(): Promise<{ python: string; version: string; reason?: undefined } | { python: null; reason: string }> {
  const candidates = process.env.BENCH_PYTHON ? [process.env.BENCH_PYTHON] : ['python3', '/usr/bin/python3']
  const problems: string[] = []
  for (const python of candidates) {
    try {
      const { stdout } = await run(python, ['-c', 'import torch; print(torch.__version__)'], { timeout: 120_000 })
      return { python, version: stdout.trim() }
    } catch (err) {
      problems.push(`${python}: ${(err as { code?: string }).code === 'ENOENT' ? 'not found' : 'cannot import torch'}`)
    }
  }
  return { python: null, reason: `no python3 with torch (${problems.join('; ')}); e.g. apt-get install python3-torch libopenblas0-pthread, or set BENCH_PYTHON` }
}

export interface TorchRun {
  method: 'lora' | 'full'
  threads: number
  warmup: number
  steps: number
  dim: number
  layers: number
  heads: number
  kvHeads: number
  inter: number
  vocab: number
  seq: number
  batch: number
  rank: number
  alpha: number
  dropout: number
}

/** Milliseconds of each measured PyTorch step (the process's start and import are not timed). */
export async function torchStepMs(python: string, r: TorchRun): Promise<number[]> {
  const args = [SCRIPT, '--method', r.method, '--threads', String(r.threads), '--warmup', String(r.warmup), '--steps', String(r.steps),
    '--dim', String(r.dim), '--layers', String(r.layers), '--heads', String(r.heads), '--kv-heads', String(r.kvHeads), '--inter', String(r.inter),
    '--vocab', String(r.vocab), '--seq', String(r.seq), '--batch', String(r.batch), '--rank', String(r.rank), '--alpha', String(r.alpha),
    '--dropout', String(r.dropout)]
  const { stdout } = await run(python, args, { timeout: 1_800_000, env: { ...process.env, OMP_NUM_THREADS: String(r.threads), OPENBLAS_NUM_THREADS: String(r.threads) } })
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number[] }).ms
}

// Training throughput on every backend that loads, for one fixed configuration:
// Llama-style, hidden 256, 4 layers, 4 heads, MLP 512, vocab 512, sequence 128, batch 8;
// LoRA r=8 on all seven projections, and full fine-tuning.
//
// Reports tokens/s, ms/step (median of the measured steps), peak RSS, achieved GFLOP/s, and
// that figure as a fraction of a plain 2-D matmul's GFLOP/s measured on the same backend in
// the same run. The matmul is
// timed again right after every measured step and each step is compared with its neighbour,
// so load from other processes on a shared machine hits both sides of the ratio alike; the
// reported fraction is the median over the measured steps.
//
// FLOPs are counted for what a step must compute (a multiply-add = 2 FLOPs), not assumed as
// 3× forward: frozen weights get no weight gradient, so a LoRA step's backward through the
// base projections is 1× their forward, not 2× — and less, since nothing upstream of the
// first block's q/k/v trains, so their input gradient is not needed (nor computed).
// Attention counts the full T×T score matrix (the kernel computes it all; the causal mask
// does not skip work). Extra work the implementation does is NOT counted: the head's
// recomputation of logits in the backward pass (chunked cross-entropy) and RoPE's half swap,
// done as a small [Dh, Dh] product.
//
// Extra sections, each behind a flag (they take minutes):
//   --vs-torch  the same model in PyTorch in the same run, alternated with ours (train-vs-torch.ts)
//   --scaling   step time against sequence length (64–512) and width (128–512), LoRA
//   --smollm    a SmolLM2-135M-shaped Llama (random weights), LoRA at sequence 512: tokens/s, peak RSS
//   --profile   tfjs's profiler over four steps of each method: time per kernel (the hot spots), and
//               the step time the kernels leave unexplained (the engine's own work in JavaScript)
// The wasm backend runs on SKILLET_TRAINER_THREADS threads (default: the cores it may use), its
// matrix products on SKILLET_TRAINER_MATMUL (default: onnxruntime where it loads).
//
//   node test/bench/train.bench.ts [backends, e.g. wasm,cpu] [--vs-torch] [--scaling] [--smollm] [--135m]
//
// With wasm among the backends, it ends with train-memory.bench.ts: peak RSS and step time of LoRA,
// QLoRA-8, QLoRA-4 and full fine-tuning, one process each (--135m adds a ~135M-parameter Llama).
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs-core'
import { backendSettingsFromEnv, describeBackend, parseBackendName, selectBackend, type BackendName } from '../../src/trainer/backend/select-backend.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import type { TrainingMethod } from '../../src/protocol/auto-hyperparameters.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from '../trainer/model-fixture.ts'
import { findTorch, torchStepMs } from './train-vs-torch.ts'

const D = 256, LAYERS = 4, HEADS = 4, INTER = 512, VOCAB = 512, T = 128, B = 8, RANK = 8
const LORA_DROPOUT = Number(process.env.BENCH_DROPOUT ?? 0.05)

/** A model and the batch it trains on. */
interface Shape { config: ModelConfig; batch: number; seq: number }
const llama = (d: number, layers: number, heads: number, kvHeads: number, inter: number, vocab: number, seq: number, over: Partial<ModelConfig> = {}): ModelConfig =>
  tinyConfig('llama', { hiddenSize: d, numLayers: layers, numHeads: heads, numKvHeads: kvHeads, headDim: d / heads, intermediateSize: inter, vocabSize: vocab, maxPositions: seq, ...over })
const BENCH: Shape = { config: llama(D, LAYERS, HEADS, HEADS, INTER, VOCAB, T), batch: B, seq: T }

/** Forward + backward FLOPs of one step (see the header for what is counted). */
function stepFlops(method: TrainingMethod, shape: Shape = BENCH): number {
  const { batch: B, seq: T } = shape
  const { hiddenSize: D, intermediateSize: INTER, numLayers: LAYERS, vocabSize: VOCAB } = shape.config
  const KV = (shape.config.numKvHeads / shape.config.numHeads) * D // k and v width (grouped heads)
  const N = B * T // tokens
  const R = B * (T - 1) // loss rows (every position but the last predicts a token)
  const projections = 2 * N * (2 * D * D + 2 * D * KV + 3 * D * INTER) * LAYERS
  const attention = 2 * 2 * B * T * T * D * LAYERS // QKᵀ and P·V
  const head = 2 * R * D * VOCAB
  // LoRA: x·A then ·B per module; q,k,v,o,gate,up are in=D (out=D or INTER), down is in=INTER.
  const loraPerToken = 2 * RANK * ((D + D) * 2 + (D + KV) * 2 + (D + INTER) * 2 + (INTER + D))
  const lora = method === 'full' ? 0 : N * loraPerToken * LAYERS
  // The first block's q, k, v input gradient (base and LoRA parts): only full fine-tuning, whose
  // embedding trains, needs it.
  const firstQkvInputGradient = 2 * N * D * (D + 2 * KV + 3 * RANK)
  const forward = projections + attention + head + lora
  const backward = method === 'full'
    ? 2 * projections + 2 * attention + 2 * head // input and weight gradients everywhere
    : projections + 2 * attention + head + 2 * lora - firstQkvInputGradient // frozen base: input gradients only
  return forward + backward
}

const MATMUL_FLOPS = 2 * B * T * D * INTER

/**
 * GFLOP/s of a plain [B·T, D]·[D, INTER] product: the best case the backend offers. `sync`
 * reads results with dataSync (usable inside a step callback); the webgpu backend forbids
 * that (see forbid-sync-reads.ts), so there only the async measurement exists.
 */
function plainMatmul() {
  const a = tf.randomNormal([B * T, D])
  const b = tf.randomNormal([D, INTER])
  return {
    async gflops(minMs: number): Promise<number> {
      const product = async () => {
        const c = tf.matMul(a, b)
        await c.data()
        c.dispose()
      }
      for (let i = 0; i < 3; i++) await product()
      let n = 0
      const start = performance.now()
      while (performance.now() - start < minMs || n < 3) {
        await product()
        n++
      }
      return MATMUL_FLOPS / (((performance.now() - start) / n) * 1e6)
    },
    /** Times repeated products for at least minMs (and 3 of them), reading synchronously. */
    gflopsSync(minMs: number): number {
      let n = 0
      const start = performance.now()
      while (performance.now() - start < minMs || n < 3) {
        const c = tf.matMul(a, b)
        c.dataSync()
        c.dispose()
        n++
      }
      return MATMUL_FLOPS / (((performance.now() - start) / n) * 1e6)
    },
    dispose: () => tf.dispose([a, b]),
  }
}

/** Whether the current backend allows dataSync (webgpu in Node does not). */
function canReadSync(): boolean {
  const probe = tf.scalar(1)
  try {
    probe.dataSync()
    return true
  } catch {
    return false
  } finally {
    probe.dispose()
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]

async function benchTraining(method: TrainingMethod, warmup: number, measured: number, shape: Shape = BENCH) {
  const { config, batch: B, seq: T } = shape
  const rows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b * 31 + i * 7) % config.vocabSize))
  const batch = batchOf(rows)
  const stepMs: number[] = []
  const ratios: number[] = []
  const matmul = plainMatmul()
  // Without sync reads the steps are compared with one measurement taken before them.
  const fixedPeak = canReadSync() ? null : await matmul.gflops(1500)
  let peakRss = process.memoryUsage().rss
  const trainer = new Trainer({
    config,
    weights: randomWeights(config, 1, 0.05),
    data: { batches: () => Array.from({ length: warmup + measured }, () => batch) },
    options: {
      ...TRAIN_DEFAULTS, method, epochs: 1, learningRate: 1e-4,
      lora: { rank: RANK, alpha: 16, dropout: LORA_DROPOUT, targetModules: [...LLAMA_LORA_MODULES] },
    },
    reporter: {
      onStep: (m) => {
        stepMs.push(m.stepMs)
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
        // The step's neighbour in time: ~1/4 of a step's duration of plain products.
        if (stepMs.length > warmup) ratios.push(stepFlops(method, shape) / (m.stepMs * 1e6) / (fixedPeak ?? matmul.gflopsSync(Math.min(m.stepMs / 4, 1000))))
      },
      onEval() {}, onCheckpoint() {}, onEvent() {},
    },
  })
  await trainer.run()
  trainer.dispose()
  matmul.dispose()
  const ms = median(stepMs.slice(warmup))
  return { ms, tokensPerSec: (B * T) / (ms / 1000), gflops: stepFlops(method, shape) / (ms * 1e6), ratio: median(ratios), interleaved: fixedPeak === null, peakRssMb: peakRss / 2 ** 20 }
}

/**
 * Ours against PyTorch on the bench config, in this run: rounds of (ours, PyTorch at 1 thread,
 * PyTorch at all threads), alternated so that load from other processes hits all three alike.
 */
async function versusTorch(threads: number): Promise<void> {
  const torch = await findTorch()
  if (!torch.python) {
    console.log(`vs-torch: skipped (${torch.reason})`)
    return
  }
  console.log(`vs-torch: PyTorch ${torch.version} via ${torch.python}, ${ROUNDS} alternating rounds; ours on ${threads} thread(s)`)
  const allThreads = Math.max(1, threads)
  for (const method of (process.env.BENCH_METHODS ?? 'lora,full').split(',') as ('lora' | 'full')[]) {
    const ours: number[] = [], kept: number[] = [], torch1: number[] = [], torchN: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const r = await benchTraining(method, 1, 3)
      ours.push(r.ms)
      kept.push(r.ratio)
      const flags = { method, warmup: 1, steps: 3, dim: D, layers: LAYERS, heads: HEADS, kvHeads: HEADS, inter: INTER, vocab: VOCAB, seq: T, batch: B, rank: RANK, alpha: 16, dropout: LORA_DROPOUT }
      torch1.push(median(await torchStepMs(torch.python, { ...flags, threads: 1 })))
      if (allThreads > 1) torchN.push(median(await torchStepMs(torch.python, { ...flags, threads: allThreads })))
      console.log(`  ${method} round ${round + 1}: ours ${r.ms.toFixed(0)} ms/step, PyTorch 1 thread ${torch1.at(-1)!.toFixed(0)} ms` +
        (allThreads > 1 ? `, ${allThreads} threads ${torchN.at(-1)!.toFixed(0)} ms` : ''))
    }
    const tps = (ms: number) => (B * T) / (ms / 1000)
    const best = torchN.length > 0 && median(torchN) < median(torch1) ? { ms: median(torchN), label: `${allThreads} threads` } : { ms: median(torch1), label: '1 thread' }
    console.log(`vs-torch ${method.padEnd(4)}: ours ${tps(median(ours)).toFixed(0)} tokens/s (${median(ours).toFixed(0)} ms/step), ` +
      `best PyTorch (${best.label}) ${tps(best.ms).toFixed(0)} tokens/s (${best.ms.toFixed(0)} ms/step; 1 thread ${median(torch1).toFixed(0)} ms` +
      (torchN.length > 0 ? `, ${allThreads} threads ${median(torchN).toFixed(0)} ms` : '') + `) — ratio ${(best.ms / median(ours)).toFixed(2)}×, ` +
      `fraction of our 2-D matmul GFLOP/s kept ${median(kept).toFixed(2)} (medians over rounds)`)
  }
}
const ROUNDS = 3

/** Step time against sequence length and width (LoRA, the bench's other sizes). */
async function scalingTable(): Promise<void> {
  const rows: [string, Shape][] = [
    ...[64, 128, 256, 512].map((seq): [string, Shape] => [`seq ${seq}, width ${D}`, { config: llama(D, LAYERS, HEADS, HEADS, INTER, VOCAB, seq), batch: B, seq }]),
    ...[128, 512].map((d): [string, Shape] => [`seq ${T}, width ${d}`, { config: llama(d, LAYERS, HEADS, HEADS, 2 * d, VOCAB, T), batch: B, seq: T }]),
  ]
  console.log(`scaling (LoRA, batch ${B}, ${LAYERS} layers, MLP 2×width):`)
  for (const [label, shape] of rows) {
    const r = await benchTraining('lora', 1, 2, shape)
    console.log(`  ${label.padEnd(20)} ${r.ms.toFixed(0).padStart(6)} ms/step  ${r.tokensPerSec.toFixed(0).padStart(6)} tokens/s  ${r.gflops.toFixed(1)} GFLOP/s`)
  }
}

/** SmolLM2-135M's shape (random weights): 30 layers, width 576, 9 heads / 3 KV heads, MLP 1536, vocab 49152, tied. */
async function smolLm(): Promise<void> {
  const seq = 512
  const shape: Shape = { config: llama(576, 30, 9, 3, 1536, 49152, seq, { tieWordEmbeddings: true, ropeTheta: 100000 }), batch: 1, seq }
  const r = await benchTraining('lora', 1, 2, shape)
  console.log(`SmolLM2-135M shape, LoRA r ${RANK} (all projections), batch 1 × seq ${seq}: ${r.ms.toFixed(0)} ms/step, ${r.tokensPerSec.toFixed(0)} tokens/s, ` +
    `${r.gflops.toFixed(1)} GFLOP/s, peak RSS ${r.peakRssMb.toFixed(0)} MB`)
}

/** Kernel time per step by kernel, over four profiled steps of each method (see the header). */
async function kernelProfile(): Promise<void> {
  const { config, batch: B, seq: T } = BENCH
  const rows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b * 31 + i * 7) % config.vocabSize))
  const batch = batchOf(rows)
  for (const method of ['lora', 'full'] as const) {
    const steps: number[] = []
    const trainer = new Trainer({
      config, weights: randomWeights(config, 1, 0.05), data: { batches: () => [batch, batch, batch, batch] },
      options: { ...TRAIN_DEFAULTS, method, epochs: 1, learningRate: 1e-4, lora: { rank: RANK, alpha: 16, dropout: LORA_DROPOUT, targetModules: [...LLAMA_LORA_MODULES] } },
      reporter: { onStep: (m) => steps.push(m.stepMs), onEval() {}, onCheckpoint() {}, onEvent() {} },
    })
    const profile = await tf.profile(async () => { await trainer.run() })
    trainer.dispose()
    const byKernel = new Map<string, { ms: number; calls: number }>()
    for (const k of profile.kernels) {
      // tf.customGrad's forward function is recorded as a kernel named after the scope it ran in
      // ("forward", "unnamed scope": not a kernel of the backend) whose time includes the kernels it
      // ran (they are recorded too): counted apart, not in the total.
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
      e.ms += Number(k.kernelTimeMs)
      e.calls++
      byKernel.set(k.name, e)
    }
    const perStep = (x: number) => x / steps.length
    const nested = (name: string) => tf.getKernel(name, tf.getBackend()) === undefined
    const total = [...byKernel].filter(([name]) => !nested(name)).reduce((n, [, e]) => n + e.ms, 0)
    const stepMs = perStep(steps.reduce((a, b) => a + b, 0))
    console.log(`profile ${method}: ${perStep(profile.kernels.length).toFixed(0)} kernels per step, ${perStep(total).toFixed(0)} ms of kernel time per step ` +
      `(a profiled step took ${stepMs.toFixed(0)} ms on average, the first included)`)
    for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
      const share = nested(name) ? '(customGrad forwards, nested)' : `${((e.ms / total) * 100).toFixed(0).padStart(3)} %`
      console.log(`  ${name.padEnd(22)} ${perStep(e.ms).toFixed(1).padStart(7)} ms ${String(perStep(e.calls).toFixed(0)).padStart(5)} calls  ${share}`)
    }
  }
}

const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { 'vs-torch': { type: 'boolean' }, scaling: { type: 'boolean' }, smollm: { type: 'boolean' }, '135m': { type: 'boolean' }, profile: { type: 'boolean' } } })
const requested = (positionals[0] ?? 'tensorflow,webgpu,wasm,cpu').split(',').map((n) => parseBackendName(n)) as BackendName[]
const { threads: threadSetting, matmul: matmulSetting } = backendSettingsFromEnv(process.env)
console.log(`config: llama D=${D} L=${LAYERS} H=${HEADS} I=${INTER} V=${VOCAB} T=${T} B=${B}, LoRA r=${RANK} (all projections)`)
console.log(`FLOPs/step: LoRA ${(stepFlops('lora') / 1e9).toFixed(2)} G, full ${(stepFlops('full') / 1e9).toFixed(2)} G`)
let wasmThreads = 1
for (const name of requested) {
  try {
    const selected = await selectBackend(name, (line) => { if (line.startsWith('wasm backend')) console.log(line) }, { threads: threadSetting, matmul: matmulSetting })
    if (selected.name === 'wasm') {
      console.log(`wasm: ${selected.threads} thread(s), matrix products on ${selected.matmul}`)
      wasmThreads = selected.threads
    }
    // webgpu: which adapter (on lavapipe, a CPU Vulkan driver, its speed means nothing).
    if (selected.adapter) console.log(describeBackend(selected))
  } catch (err) {
    console.log(`${name}: unavailable (${(err as Error).message.split('\n')[0]})`)
    continue
  }
  // The pure-JS cpu backend is ~10x slower: fewer steps keep the run short.
  const [warmup, measured] = name === 'cpu' ? [1, 2] : [2, 7]
  const matmul = plainMatmul()
  console.log(`${name}: plain 2-D matmul ${(await matmul.gflops(1500)).toFixed(1)} GFLOP/s`)
  matmul.dispose()
  for (const method of (process.env.BENCH_METHODS ?? 'lora,full').split(',') as TrainingMethod[]) {
    const r = await benchTraining(method, warmup, measured)
    console.log(`${name} ${method.padEnd(4)}: ${r.ms.toFixed(0)} ms/step, ${r.tokensPerSec.toFixed(0)} tokens/s, ` +
      `${r.gflops.toFixed(2)} GFLOP/s = ${r.ratio.toFixed(2)} of matmul (median over steps, ${r.interleaved ? 'each against the matmul timed beside it' : 'against the matmul timed before them'}), ` +
      `peak RSS ${r.peakRssMb.toFixed(0)} MB`)
  }
  if (name !== 'wasm') continue
  if (flags['vs-torch']) await versusTorch(wasmThreads)
  if (flags.scaling) await scalingTable()
  if (flags.smollm) await smolLm()
  if (flags.profile) await kernelProfile()
}

if (requested.includes('wasm')) execFileSync(process.execPath, [new URL('./train-memory.bench.ts', import.meta.url).pathname, ...(flags['135m'] ? ['--135m'] : [])], { stdio: 'inherit' })

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
//   node test/bench/train.bench.ts [backends, e.g. wasm,cpu] [--135m]
//
// With wasm among the backends, it ends with train-memory.bench.ts: peak RSS and step time of LoRA,
// QLoRA-8, QLoRA-4 and full fine-tuning, one process each (--135m adds a ~135M-parameter Llama).
import { execFileSync } from 'node:child_process'
import * as tf from '@tensorflow/tfjs-core'
import { describeBackend, parseBackendName, selectBackend, type BackendName } from '../../src/trainer/backend/select-backend.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import type { TrainingMethod } from '../../src/protocol/auto-hyperparameters.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from '../trainer/model-fixture.ts'

const D = 256, LAYERS = 4, HEADS = 4, INTER = 512, VOCAB = 512, T = 128, B = 8, RANK = 8
const config: ModelConfig = tinyConfig('llama', {
  hiddenSize: D, numLayers: LAYERS, numHeads: HEADS, numKvHeads: HEADS, intermediateSize: INTER, vocabSize: VOCAB, maxPositions: T,
})

/** Forward + backward FLOPs of one step (see the header for what is counted). */
function stepFlops(method: TrainingMethod): number {
  const N = B * T // tokens
  const R = B * (T - 1) // loss rows (every position but the last predicts a token)
  const projections = 2 * N * (4 * D * D + 3 * D * INTER) * LAYERS
  const attention = 2 * 2 * B * T * T * D * LAYERS // QKᵀ and P·V
  const head = 2 * R * D * VOCAB
  // LoRA: x·A then ·B per module; q,k,v,o,gate,up are in=D (out=D or INTER), down is in=INTER.
  const loraPerToken = 2 * RANK * ((D + D) * 4 + (D + INTER) * 2 + (INTER + D))
  const lora = method === 'full' ? 0 : N * loraPerToken * LAYERS
  // The first block's q, k, v input gradient (base and LoRA parts): only full fine-tuning, whose
  // embedding trains, needs it.
  const firstQkvInputGradient = 3 * 2 * N * D * (D + RANK)
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

async function benchTraining(method: TrainingMethod, warmup: number, measured: number) {
  const rows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b * 31 + i * 7) % VOCAB))
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
      lora: { rank: RANK, alpha: 16, dropout: Number(process.env.BENCH_DROPOUT ?? 0.05), targetModules: [...LLAMA_LORA_MODULES] },
    },
    reporter: {
      onStep: (m) => {
        stepMs.push(m.stepMs)
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
        // The step's neighbour in time: ~1/4 of a step's duration of plain products.
        if (stepMs.length > warmup) ratios.push(stepFlops(method) / (m.stepMs * 1e6) / (fixedPeak ?? matmul.gflopsSync(m.stepMs / 4)))
      },
      onEval() {}, onCheckpoint() {}, onEvent() {},
    },
  })
  await trainer.run()
  trainer.dispose()
  matmul.dispose()
  const ms = median(stepMs.slice(warmup))
  return { ms, tokensPerSec: (B * T) / (ms / 1000), gflops: stepFlops(method) / (ms * 1e6), ratio: median(ratios), interleaved: fixedPeak === null, peakRssMb: peakRss / 2 ** 20 }
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const requested = (args[0] ?? 'tensorflow,webgpu,wasm,cpu').split(',').map((n) => parseBackendName(n)) as BackendName[]
console.log(`config: llama D=${D} L=${LAYERS} H=${HEADS} I=${INTER} V=${VOCAB} T=${T} B=${B}, LoRA r=${RANK} (all projections)`)
console.log(`FLOPs/step: LoRA ${(stepFlops('lora') / 1e9).toFixed(2)} G, full ${(stepFlops('full') / 1e9).toFixed(2)} G`)
for (const name of requested) {
  try {
    const selected = await selectBackend(name)
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
}
if (requested.includes('wasm')) execFileSync(process.execPath, [new URL('./train-memory.bench.ts', import.meta.url).pathname, ...process.argv.slice(2).filter((a) => a.startsWith('--'))], { stdio: 'inherit' })

// Training throughput on every backend that loads, for one fixed configuration:
// Llama-style, hidden 256, 4 layers, 4 heads, MLP 512, vocab 512, sequence 128, batch 8;
// LoRA r=8 on all seven projections, and full fine-tuning.
//
// Reports tokens/s, ms/step, peak RSS, achieved GFLOP/s, and that figure as a fraction of a
// plain 2-D matmul's GFLOP/s measured on the same backend in the same run.
//
// FLOPs are counted for what a step must compute (a multiply-add = 2 FLOPs), not assumed as
// 3× forward: frozen weights get no weight gradient, so a LoRA step's backward through the
// base projections is 1× their forward, not 2×. Attention counts the full T×T score matrix
// (the kernel computes it all; the causal mask does not skip work). The head's recomputation
// of logits in the backward pass (chunked cross-entropy) is extra work and is NOT counted.
//
//   node test/bench/train.bench.ts [backends, e.g. wasm,cpu]
import * as tf from '@tensorflow/tfjs-core'
import { parseBackendName, selectBackend, type BackendName } from '../../src/trainer/backend/select-backend.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import type { TrainingMethod } from '../../src/trainer/train/auto-hyperparameters.ts'
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
  const forward = projections + attention + head + lora
  const backward = method === 'full'
    ? 2 * projections + 2 * attention + 2 * head // input and weight gradients everywhere
    : projections + 2 * attention + head + 2 * lora // frozen base: input gradients only
  return forward + backward
}

/** GFLOP/s of a plain [B·T, D]·[D, INTER] product: the best case the backend offers. */
async function matmulGflops(): Promise<number> {
  const a = tf.randomNormal([B * T, D])
  const b = tf.randomNormal([D, INTER])
  const once = async () => {
    const c = tf.matMul(a, b)
    await c.data()
    c.dispose()
  }
  for (let i = 0; i < 3; i++) await once()
  let n = 0
  const start = performance.now()
  while (performance.now() - start < 1500 || n < 3) {
    await once()
    n++
  }
  const ms = (performance.now() - start) / n
  tf.dispose([a, b])
  return (2 * B * T * D * INTER) / (ms * 1e6)
}

async function benchTraining(method: TrainingMethod, warmup: number, measured: number) {
  const rows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b * 31 + i * 7) % VOCAB))
  const batch = batchOf(rows)
  const stepMs: number[] = []
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
      },
      onEval() {}, onCheckpoint() {}, onEvent() {},
    },
  })
  await trainer.run()
  trainer.dispose()
  const timed = stepMs.slice(warmup)
  const ms = timed.reduce((s, x) => s + x, 0) / timed.length
  return { ms, tokensPerSec: (B * T) / (ms / 1000), gflops: stepFlops(method) / (ms * 1e6), peakRssMb: peakRss / 2 ** 20 }
}

const requested = (process.argv[2] ?? 'tensorflow,webgpu,wasm,cpu').split(',').map((n) => parseBackendName(n)) as BackendName[]
console.log(`config: llama D=${D} L=${LAYERS} H=${HEADS} I=${INTER} V=${VOCAB} T=${T} B=${B}, LoRA r=${RANK} (all projections)`)
console.log(`FLOPs/step: LoRA ${(stepFlops('lora') / 1e9).toFixed(2)} G, full ${(stepFlops('full') / 1e9).toFixed(2)} G`)
for (const name of requested) {
  try {
    await selectBackend(name)
  } catch (err) {
    console.log(`${name}: unavailable (${(err as Error).message.split('\n')[0]})`)
    continue
  }
  // The pure-JS cpu backend is ~10x slower: fewer steps keep the run short.
  const [warmup, measured] = name === 'cpu' ? [1, 2] : [2, 5]
  const peak = await matmulGflops()
  console.log(`${name}: plain 2-D matmul ${peak.toFixed(1)} GFLOP/s`)
  for (const method of (process.env.BENCH_METHODS ?? 'lora,full').split(',') as TrainingMethod[]) {
    const r = await benchTraining(method, warmup, measured)
    console.log(`${name} ${method.padEnd(4)}: ${r.ms.toFixed(0)} ms/step, ${r.tokensPerSec.toFixed(0)} tokens/s, ` +
      `${r.gflops.toFixed(2)} GFLOP/s = ${(r.gflops / peak).toFixed(2)} of matmul, peak RSS ${r.peakRssMb.toFixed(0)} MB`)
  }
}

// Trainer throughput for the GPU measurements of docs/gpu.md: one size, one method, one
// backend per run (a 600M model needs the process to itself). Prints the adapter, then one JSON
// line: tokens/s, ms/step, achieved TFLOP/s (FLOPs as counted in sizes.ts).
//
//   node test/bench/gpu/train-sizes.bench.ts --size bench|150m|600m --method lora|full [--backend webgpu] [--steps 10] [--warmup 3]
//
// With --require-gpu (the default) it refuses a software adapter: numbers from lavapipe are meaningless.
import { parseArgs } from 'node:util'
import { describeBackend, parseBackendName, selectBackend } from '../../../src/trainer/backend/select-backend.ts'
import { LLAMA_LORA_MODULES } from '../../../src/trainer/model/lora.ts'
import type { TrainingMethod } from '../../../src/protocol/auto-hyperparameters.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from '../../trainer/model-fixture.ts'
import { parameterCount, SIZES, stepFlops } from './sizes.ts'

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'bench' }, method: { type: 'string', default: 'lora' },
    backend: { type: 'string', default: 'webgpu' }, steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' }, 'allow-software': { type: 'boolean', default: false },
  },
})
const size = SIZES[values.size!]
if (!size) throw new Error(`--size must be one of ${Object.keys(SIZES).join(', ')}`)
const method = values.method as TrainingMethod
const [warmup, steps] = [Number(values.warmup), Number(values.steps)]

const selected = await selectBackend(parseBackendName(values.backend), () => {}, { requireGpu: !values['allow-software'] })
console.log(describeBackend(selected))

const config = tinyConfig('llama', {
  hiddenSize: size.hidden, numLayers: size.layers, numHeads: size.heads, numKvHeads: size.kvHeads, headDim: size.hidden / size.heads,
  intermediateSize: size.intermediate, vocabSize: size.vocab, maxPositions: size.seq, tieWordEmbeddings: size.tied ?? false,
})
const rows = Array.from({ length: size.batch }, (_, b) => Array.from({ length: size.seq }, (_, i) => (b * 31 + i * 7) % size.vocab))
const batch = batchOf(rows)
const stepMs: number[] = []
// Start-up: from the process's start (performance's time origin) to the end of the first step.
let firstStepAt: number | undefined
const trainer = new Trainer({
  config, weights: randomWeights(config, 1, 0.02),
  data: { batches: () => Array.from({ length: warmup + steps }, () => batch) },
  options: {
    ...TRAIN_DEFAULTS, method, epochs: 1, learningRate: 1e-5, warmupSteps: 0,
    lora: { rank: size.rank, alpha: 2 * size.rank, dropout: 0, targetModules: [...LLAMA_LORA_MODULES] },
  },
  reporter: { onStep: (m) => { firstStepAt ??= performance.now(); stepMs.push(m.stepMs) }, onEval() {}, onCheckpoint() {}, onEvent() {} },
})
await trainer.run()
trainer.dispose()
const timed = stepMs.slice(warmup)
const ms = timed.reduce((s, x) => s + x, 0) / timed.length
const tokens = size.batch * size.seq
console.log(JSON.stringify({
  engine: `tfjs-${selected.name}`, size: values.size, method, parameters: parameterCount(size), batch: size.batch, seq: size.seq,
  msPerStep: Number(ms.toFixed(1)), tokensPerSec: Math.round(tokens / (ms / 1000)),
  tflops: Number((stepFlops(size, method) / (ms * 1e9)).toFixed(3)),
  startupToFirstStepMs: Math.round(firstStepAt ?? NaN), adapter: selected.adapter?.description ?? null,
}))

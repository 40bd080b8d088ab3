// QLoRA: the frozen base's block projections held quantised (int8 per output channel, 4-bit Q4_0
// blocks), dequantised per product in the forward and backward pass, LoRA on top in full precision.
// Dequantisation error bounds; the op equals LoRA on the dequantised base (value and gradients) and
// keeps no f32 copy; the base holds fewer bytes; it learns the task within noise of plain LoRA; and
// the merged model is the dequantised base with the adapter folded in.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { frozenLinear } from '../../src/trainer/model/frozen-linear.ts'
import { forwardLogits } from '../../src/trainer/model/forward.ts'
import { greedyGenerate } from '../../src/trainer/model/generate.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import { dequantiseTensor, dequantiseValues, Q4_BLOCK, quantisedBytes, quantiseMatrix, type QuantBits } from '../../src/trainer/model/quantised-matrix.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { writeOutputs } from '../../src/trainer/run/write-outputs.ts'
import { trainOptions } from '../../src/trainer/run/train-options.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import type { StepMetrics } from '../../src/trainer/train/reporter.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'
import { EOS, heldOut, mappingBatches } from './helpers/mapping-task.ts'

const randomMatrix = (rows: number, cols: number, seed: number) => {
  const rng = Random.fromSeed(seed)
  return Float32Array.from({ length: rows * cols }, () => rng.uniform(-1, 1) * (1 + 3 * rng.next()))
}

t.before(async () => {
  await selectBackend('wasm')
})

t.test('dequantisation round trip: int8 within half a step per channel, Q4 within one step per block', async (t) => {
  const [rows, cols] = [70, 48] // 70 inputs: the last Q4 block is short
  const w = randomMatrix(rows, cols, 3)
  const int8 = quantiseMatrix(w, [rows, cols], 8)
  const back8 = dequantiseValues(int8)
  let worst8 = 0
  for (let i = 0; i < w.length; i++) worst8 = Math.max(worst8, Math.abs(w[i] - back8[i]) / (int8.scales[i % cols] / 2))
  t.ok(worst8 <= 1 + 1e-5, `int8: worst error ${worst8.toFixed(3)} half-steps`)
  t.equal(int8.packed.byteLength, rows * cols, 'one byte per weight')

  const q4 = quantiseMatrix(w, [rows, cols], 4)
  const back4 = dequantiseValues(q4)
  let worst4 = 0
  let withinHalf = 0
  for (let i = 0; i < w.length; i++) {
    const d = Math.abs(q4.scales[Math.floor(Math.floor(i / cols) / Q4_BLOCK) * cols + (i % cols)])
    const err = Math.abs(w[i] - back4[i])
    worst4 = Math.max(worst4, err / d)
    if (err <= d / 2 + 1e-6) withinHalf++
  }
  t.ok(worst4 <= 1 + 1e-5, `Q4: worst error ${worst4.toFixed(3)} steps`)
  t.ok(withinHalf / w.length > 0.95, `Q4: ${((withinHalf / w.length) * 100).toFixed(1)}% within half a step (only the clamped end of a block is off by more)`)
  t.equal(q4.packed.byteLength, (rows * cols) / 2, 'two weights per byte')
  t.equal(q4.scales.length, Math.ceil(rows / Q4_BLOCK) * cols)

  const rms = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length) / Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length)
  t.ok(rms(w, back8) < 0.01, `int8 relative RMS error ${rms(w, back8).toExponential(2)}`)
  t.ok(rms(w, back4) < 0.15, `Q4 relative RMS error ${rms(w, back4).toExponential(2)}`)
  const zeros = quantiseMatrix(new Float32Array(64), [8, 8], 4)
  t.same([...dequantiseValues(zeros)], new Array(64).fill(0), 'an all-zero block stays zero')
})

t.test('the op on a quantised weight equals LoRA on the dequantised one, and keeps no f32 copy', async (t) => {
  for (const bits of [8, 4] as QuantBits[]) {
    const [tokens, inDim, outDim, r] = [6, 64, 40, 4]
    const q = quantiseMatrix(randomMatrix(inDim, outDim, 5), [inDim, outDim], bits)
    const dense = dequantiseTensor(q)
    const x = tf.tensor2d(randomMatrix(tokens, inDim, 6), [tokens, inDim])
    const a = tf.variable(tf.tensor2d(randomMatrix(inDim, r, 7), [inDim, r]))
    const b = tf.variable(tf.tensor2d(randomMatrix(r, outDim, 8), [r, outDim]))
    const lora = { a, b, mask: null, scale: 2 }
    const run = (weight: tf.Tensor2D | typeof q) => tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((xi: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.square(frozenLinear(xi as tf.Tensor2D, { weight, bias: null }, { ...lora, a: ai as tf.Variable, b: bi as tf.Variable }, true))))([x, a, b])
      return [value, ...grads].map((g) => g.dataSync().slice() as Float32Array)
    })
    const before = tf.memory().numTensors
    const got = run(q)
    t.equal(tf.memory().numTensors, before, `${bits}-bit: no tensor outlives the pass (the dequantised weight is disposed)`)
    const want = run(dense)
    for (const [i, name] of ['loss', 'dx', 'dA', 'dB'].entries()) {
      const worst = got[i].reduce((m, v, j) => Math.max(m, Math.abs(v - want[i][j]) / (Math.abs(want[i][j]) + 1e-3)), 0)
      t.ok(worst < 1e-4, `${bits}-bit ${name} matches (worst relative difference ${worst.toExponential(1)})`)
    }
    tf.dispose([dense, x, a, b])
  }
})

t.test('a quantised base holds its projections in a quarter (int8) or about a sixth (Q4) of the bytes', async (t) => {
  const config = tinyConfig('llama', { hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2 })
  const host = randomWeights(config, 1, 0.1)
  const start = tf.memory().numBytes
  const f32 = ModelWeights.fromHost(config, host, { trainable: false })
  const f32Bytes = tf.memory().numBytes - start
  const projectionBytes = [...host].filter(([n]) => n.endsWith('_proj.weight')).reduce((s, [, v]) => s + v.data.byteLength, 0)
  f32.dispose()
  for (const bits of [8, 4] as QuantBits[]) {
    const base = tf.memory().numBytes
    const q = ModelWeights.fromHost(config, host, { trainable: false, quantise: bits })
    const held = [...q.quantised.values()].reduce((s, m) => s + quantisedBytes(m), 0)
    t.equal(tf.memory().numBytes - base, f32Bytes - projectionBytes, `${bits}-bit: no projection is a tensor`)
    t.ok(held <= projectionBytes * (bits === 8 ? 0.27 : 0.16), `${bits}-bit: ${held} bytes for ${projectionBytes} of f32 projections`)
    q.dispose()
  }
})

t.test('QLoRA-8 and QLoRA-4 learn the task, with a loss within noise of plain LoRA', async (t) => {
  const config = tinyConfig('llama', { hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2 })
  const batches = mappingBatches(16)
  const runs: Record<string, { tail: number[]; exact: number }> = {}
  for (const bits of [null, 8, 4] as (QuantBits | null)[]) {
    const steps: StepMetrics[] = []
    const trainer = new Trainer({
      config,
      weights: randomWeights(config, 1, 0.1),
      data: { batches },
      options: { ...TRAIN_DEFAULTS, method: 'lora', epochs: 12, learningRate: 5e-3, warmupRatio: 0.05, lora: { rank: 8, alpha: 16, dropout: 0, targetModules: [...LLAMA_LORA_MODULES], baseBits: bits } },
      reporter: { onStep: (m) => steps.push(m), onEval() {}, onCheckpoint() {}, onEvent() {} },
    })
    if (bits) t.equal(trainer.weights.quantised.size, config.numLayers * 7, `${bits}-bit: every block projection quantised`)
    await trainer.run()
    const out = await greedyGenerate(trainer.weights, trainer.lora, heldOut.map((e) => e.prompt), { maxNewTokens: 2, eosId: EOS })
    runs[bits ? `qlora-${bits}` : 'lora'] = { tail: steps.slice(-30).map((s) => s.trainLoss), exact: out.filter((o, i) => o.join() === heldOut[i].answer.join()).length / heldOut.length }
    trainer.dispose()
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)))
  const lora = runs.lora
  const noise = 3 * sd(lora.tail) + 0.05
  for (const name of ['qlora-8', 'qlora-4']) {
    const run = runs[name]
    t.ok(run.exact >= 0.9, `${name}: ${(run.exact * 100).toFixed(1)}% exact match on held-out prompts (LoRA: ${(lora.exact * 100).toFixed(1)}%)`)
    const gap = Math.abs(mean(run.tail) - mean(lora.tail))
    t.ok(gap <= noise, `${name}: final loss ${mean(run.tail).toFixed(4)} vs LoRA ${mean(lora.tail).toFixed(4)} (gap ${gap.toFixed(4)}, noise bound ${noise.toFixed(4)})`)
  }
})

t.test('the merged model of a QLoRA run is the dequantised base with the adapter folded in', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skillet-qlora-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'base'), seed: 0, initStd: 0.1 })
  const model = await loadModelDir(join(dir, 'base'))
  const batch = batchOf([[5, 6, 7, 8, 9, 10, 11, 12], [13, 14, 15, 16, 17, 18, 19, 20]])
  const trainer = new Trainer({
    config: model.config,
    weights: model.weights,
    data: { batches: () => [batch] },
    options: trainOptions(model.config, { method: 'lora', epochs: 3, learningRate: 1e-2, seed: 1, lora: { dropout: 0, baseBits: 4 } }),
    reporter: { onStep() {}, onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  model.weights.clear() // as the service does: the exports need only the quantised base
  const result = await trainer.run()
  const ours = tf.tidy(() => forwardLogits(trainer.weights, batch, { lora: trainer.lora }).dataSync().slice() as Float32Array)
  const written = await writeOutputs(join(dir, 'out'), model, result, { adapter: true, merged: true, gguf: ['F16'], baseModelName: 'tiny' })
  t.ok(written.adapterDir && written.modelDir && written.ggufPaths.length === 1, 'adapter, merged model and GGUF written')
  const merged = await loadModelDir(written.modelDir!)
  const plain = ModelWeights.fromHost(merged.config, merged.weights, { trainable: false })
  const theirs = tf.tidy(() => forwardLogits(plain, batch).dataSync().slice() as Float32Array)
  const worst = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i])), 0)
  t.ok(worst < 2e-3, `merged model's logits match base(dequantised) + adapter (worst difference ${worst.toExponential(2)})`)
  const original = ModelWeights.fromHost(model.config, (await loadModelDir(join(dir, 'base'))).weights, { trainable: false })
  const fromF32 = tf.tidy(() => forwardLogits(original, batch, { lora: trainer.lora }).dataSync().slice() as Float32Array)
  const f32Gap = fromF32.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i])), 0)
  t.ok(f32Gap > worst, `and not the f32 base with the adapter (difference ${f32Gap.toExponential(2)})`)
  plain.dispose()
  original.dispose()
  trainer.dispose()
})

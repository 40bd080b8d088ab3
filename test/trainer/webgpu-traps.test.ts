// The traps of tfjs-backend-webgpu in Node, each shown happening without its guard and not
// happening with it, on a real WebGPU device (Mesa's lavapipe in CI; skipped without an adapter):
//  - AddN with as many inputs as the device has storage buffers per kernel returns stale data;
//  - a tensor larger than the storage-binding limit reads as zeros (and the logits of the loss
//    would be one, were they not chunked);
//  - int32 indices at or above 2^24 are read through f32 and pick the wrong row;
//  - a synchronous read crashes;
//  - after any of these, the GPU's validation error is recorded and the trainer stops.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { addMany, maxAddNInputs } from '../../src/trainer/backend/add-many.ts'
import { forbidSyncReads } from '../../src/trainer/backend/forbid-sync-reads.ts'
import { F32_EXACT_INTEGER_LIMIT, planMemory } from '../../src/trainer/backend/memory-plan.ts'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { gpuFailure, registerWebGpu, throwIfGpuFailed } from '../../src/trainer/backend/webgpu.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { clipByGlobalNorm } from '../../src/trainer/train/clip-gradients.ts'
import { labelLogProbs } from '../../src/trainer/train/token-log-probs.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { webGpuSkipReason } from './helpers/webgpu-adapter.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const skip = await webGpuSkipReason()

/** A fresh device, as tfjs's current backend; `raiseLimits: false` keeps WebGPU's defaults. */
async function freshWebGpu(raiseLimits = true) {
  const opened = await registerWebGpu({ raiseLimits })
  await tf.setBackend('webgpu')
  return opened
}

async function read(x: tf.Tensor): Promise<Float32Array> {
  const values = (await x.data()) as Float32Array
  x.dispose()
  return values
}

t.test('AddN past the per-kernel buffer limit returns stale data; addMany sums in groups that fit', { skip }, async (t) => {
  for (const raiseLimits of [false, true]) {
    const { adapter } = await freshWebGpu(raiseLimits)
    const perStage = adapter.limits.maxStorageBuffersPerShaderStage
    // perStage inputs + the output need perStage + 1 storage buffers: one too many.
    const inputs = Array.from({ length: perStage }, (_, i) => tf.fill([64], i + 1))
    const expected = perStage * (perStage + 1) / 2
    // Leave an old result in the buffer pool, as a training step does, for the failed kernel to "return".
    await read(tf.addN(inputs.slice(0, 3)))
    const raw = await read(tf.addN(inputs))
    t.not(raw[0], expected, `limit ${perStage}: tf.addN of ${perStage} inputs gives ${raw[0]}, not ${expected}`)
    t.match(gpuFailure()?.message, /GPUValidationError.*number of storage buffers/, 'the validation error is recorded')
    t.throws(() => throwIfGpuFailed(), /GPU error/, 'and is fatal')
    const unguarded = await read(addMany(inputs, Infinity))
    t.not(unguarded[0], expected, 'addMany without its group limit is the same trap')

    await freshWebGpu(raiseLimits) // a clean device: the old one's error stays fatal
    const again = Array.from({ length: perStage }, (_, i) => tf.fill([64], i + 1))
    t.equal(maxAddNInputs(), perStage - 1, 'groups of one fewer than the buffer limit')
    const guarded = await read(addMany(again))
    t.same([guarded[0], guarded[63]], [expected, expected], `addMany of ${perStage} inputs is right`)
    t.equal(gpuFailure(), null, 'and raises no GPU error')
    tf.dispose([...inputs, ...again])
  }
})

t.test('gradient clipping over many gradients (it sums one norm per tensor) agrees with cpu', { skip }, async (t) => {
  const shapes = Array.from({ length: 40 }, (_, i) => [3 + (i % 5), 4])
  const norm = async () => {
    const grads = new Map(shapes.map((s, i) => [`g${i}`, tf.fill(s, (i % 7) - 3)]))
    const n = await clipByGlobalNorm(grads, 0)
    tf.dispose([...grads.values()])
    return n
  }
  await selectBackend('cpu')
  const onCpu = await norm()
  await freshWebGpu()
  const onGpu = await norm()
  t.ok(Math.abs(onGpu - onCpu) <= 1e-6 * onCpu, `global norm ${onGpu} on webgpu, ${onCpu} on cpu`)
  t.equal(gpuFailure(), null)
})

t.test('a tensor over the storage-binding limit reads as zeros; the plan refuses such shapes first', { skip }, async (t) => {
  const { adapter } = await freshWebGpu()
  const limit = adapter.limits.maxStorageBufferBindingSize
  const n = limit / 4 + 1024 * 1024 // 4 MiB over
  const big = tf.fill([n], 1)
  const doubled = await read(tf.mul(big, 2))
  big.dispose()
  t.same([doubled[0], doubled[n - 1]], [0, 0], `${(n * 4 / 2 ** 20).toFixed(0)} MiB: 1 × 2 reads as 0`)
  t.match(gpuFailure()?.message, /Binding size \(\d+\).* is larger than the maximum storage buffer binding size/)

  // The guard: the trainer checks every shape against this device before its first step.
  await freshWebGpu()
  const config = tinyConfig('llama', { maxPositions: 4096 })
  const longRows = Array.from({ length: 8 }, () => Array.from({ length: 1300 }, (_, i) => 1 + (i % 60)))
  const make = () => new Trainer({
    config, weights: randomWeights(config), data: { batches: () => [batchOf(longRows)] },
    options: { ...TRAIN_DEFAULTS, method: 'lora', lora: { rank: 2, alpha: 4, dropout: 0, targetModules: ['q_proj'] } },
    reporter: { onStep() {}, onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  t.throws(make, /do not fit the GPU device .*attention scores \[8, 4, 1300, 1300\] is 206\.3 MiB/, '8 × 4 heads × 1300² scores: refused before running')
  t.equal(gpuFailure(), null, 'nothing ran')
})

t.test('the loss over a large vocabulary stays correct because its logits are chunked under the limit', { skip }, async (t) => {
  // 1024 target rows × 40000 vocab = 156 MiB of logits: more than lavapipe's 128 MiB binding.
  const config = tinyConfig('llama', { vocabSize: 40000, hiddenSize: 8, numHeads: 2, numKvHeads: 1, headDim: 4, intermediateSize: 8, numLayers: 1 })
  const host = randomWeights(config, 3, 0.5)
  const rows = 1024
  const hiddenValues = Float32Array.from({ length: rows * 8 }, (_, i) => Math.sin(i))
  const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % 40000)
  const logProbs = async (chunkRows?: number) => {
    const weights = ModelWeights.fromHost(config, host, { trainable: false })
    const out = tf.tidy(() => {
      const r = labelLogProbs(weights, tf.tensor2d(hiddenValues, [rows, 8]), labels, chunkRows)
      r.correct.dispose()
      return r.logProbs
    })
    const values = await read(out)
    weights.dispose()
    return values
  }
  await selectBackend('wasm')
  const expected = await logProbs()
  // Unchunked first, on a fresh device: a failed kernel's output keeps whatever its pooled buffer
  // held, and after a correct run that would be the correct answer, hiding the trap.
  const { adapter } = await freshWebGpu()
  t.ok(rows * 40000 * 4 > adapter.limits.maxStorageBufferBindingSize, 'the whole logits matrix would exceed the limit')
  const unchunked = await logProbs(rows)
  t.ok(!(relL2(unchunked, expected) < 1e-2), `one chunk of all ${rows} rows: rel. L2 error ${relL2(unchunked, expected)}`)
  t.match(gpuFailure()?.message, /binding size/i)
  await freshWebGpu()
  const chunked = await logProbs()
  t.ok(relL2(chunked, expected) < 1e-5, `chunked: rel. L2 error ${relL2(chunked, expected).toExponential(2)} vs wasm`)
  t.equal(gpuFailure(), null, 'no GPU error')
})

t.test('int32 indices above 2^24 round through f32; the plan refuses vocabularies that large', { skip }, async (t) => {
  await freshWebGpu()
  const rows = F32_EXACT_INTEGER_LIMIT + 2
  const table = new Float32Array(rows)
  for (let i = 0; i < rows; i++) table[i] = i % 1000
  const index = F32_EXACT_INTEGER_LIMIT + 1 // token id 16777217
  const row = await read(tf.tidy(() => tf.gather(tf.tensor1d(table), tf.tensor1d([index, 5], 'int32'))))
  t.same(Array.from(row), [(index - 1) % 1000, 5], `gather of row ${index} returns row ${index - 1}`)
  const huge = tinyConfig('llama', { vocabSize: rows, hiddenSize: 1, numHeads: 1, numKvHeads: 1, headDim: 1, intermediateSize: 1 })
  const roomy = { maxStorageBufferBindingSize: 2 ** 31 }
  t.doesNotThrow(() => planMemory(huge, 1, 8, roomy, { method: 'lora', checkIndices: false }), 'without the index check the plan lets it through')
  t.throws(() => planMemory(huge, 1, 8, roomy, { method: 'lora' }), /ids above 2\^24 are not exact in f32/, 'with it, refused')
})

t.test('synchronous reads crash in Node; on webgpu the trainer bans them with a clear message', { skip }, async (t) => {
  await selectBackend('webgpu')
  const x = tf.add(tf.scalar(1), tf.scalar(2)) // computed on the GPU, not cached on the CPU
  t.throws(() => x.dataSync(), /dataSync\(\) on a 0-D tensor: synchronous reads are forbidden/, 'banned, with the reason')
  const lift = forbidSyncReads() // nested ban: lifting it restores the ban selectBackend installed
  lift()
  t.throws(() => x.dataSync(), /synchronous reads are forbidden/)
  t.same(Array.from(await x.data()), [3], 'await data() works')
  x.dispose()
})

t.test('a GPU validation error stops the trainer at the end of the step', { skip }, async (t) => {
  const { adapter } = await freshWebGpu()
  const inputs = Array.from({ length: adapter.limits.maxStorageBuffersPerShaderStage }, () => tf.ones([4]))
  tf.addN(inputs).dispose() // an unguarded AddN somewhere: the device records the error
  tf.dispose(inputs)
  const config = tinyConfig('llama')
  const run = new Trainer({
    config, weights: randomWeights(config), data: { batches: () => [batchOf([[1, 2, 3, 4]])] },
    options: { ...TRAIN_DEFAULTS, method: 'lora', epochs: 1, lora: { rank: 2, alpha: 4, dropout: 0, targetModules: ['q_proj'] } },
    reporter: { onStep: () => t.fail('no step may be reported'), onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  await t.rejects(run.run(), /GPU error \(GPUValidationError\)/)
  run.dispose()
})

function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2 }
  return Math.sqrt(num / den)
}

// Training on the webgpu backend (Dawn over Vulkan; Mesa's lavapipe in CI, skipped without an
// adapter), against the cpu backend as the oracle: LoRA losses and gradients, full fine-tuning
// gradients including the embedding's (gather → UnsortedSegmentSum on the GPU), a full
// fine-tune through the Trainer, a checkpointed LoRA run (forward.ts) against the plain one, and
// 100 steps with a flat tensor count and GPU memory.
// Also: "GPU required" refuses the software adapter, and auto-selection passes over it.
import t, { type Test } from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { gpuFailure } from '../../src/trainer/backend/webgpu.ts'
import { LoraAdapters } from '../../src/trainer/model/lora.ts'
import { Random } from '../../src/trainer/model/random.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import { variableKey } from '../../src/trainer/model/variable-names.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { sftLoss } from '../../src/trainer/train/sft-loss.ts'
import { selectTargets } from '../../src/trainer/train/targets.ts'
import { TRAIN_DEFAULTS, Trainer, type MicroBatch, type TrainOptions } from '../../src/trainer/train/trainer.ts'
import { webGpuSkipReason } from './helpers/webgpu-adapter.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const skip = await webGpuSkipReason()

const batch = batchOf([[3, 17, 5, 60, 22, 9, 41, 8], [7, 7, 31, 4, 55, 12]], { lossFrom: [3, 2] })
const targets = selectTargets(batch)

function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2 }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den)
}

/** Loss and gradients of the SFT loss on `backend`, as host arrays keyed by variable. */
async function lossAndGrads(backend: 'cpu' | 'webgpu', config: ModelConfig, method: 'lora' | 'full') {
  await selectBackend(backend)
  const weights = ModelWeights.fromHost(config, randomWeights(config, 5, 0.2), { trainable: method === 'full' })
  let lora: LoraAdapters | null = null
  if (method === 'lora') {
    const modules = config.architecture === 'gpt2' ? ['c_attn', 'c_fc'] : ['q_proj', 'v_proj', 'down_proj']
    lora = LoraAdapters.create(weights, { rank: 4, alpha: 8, dropout: 0, targetModules: modules }, Random.fromSeed(1))
    // B starts at zero, which would make A's gradient zero: give it values to compare both.
    const rng = Random.fromSeed(9)
    for (const { b } of lora.pairs.values()) {
      const fresh = tf.tensor(Float32Array.from({ length: b.size }, () => rng.uniform(-0.3, 0.3)), b.shape)
      b.assign(fresh)
      fresh.dispose()
    }
  }
  const vars = lora ? lora.variables() : weights.variables()
  const { value, grads } = tf.variableGrads(() => {
    const r = sftLoss(weights, lora, batch, targets, { normalizer: targets.rows.length, dropoutSeed: null })
    r.correct.dispose()
    return r.loss
  }, vars)
  const loss = (await value.data())[0]
  const out = new Map<string, Float32Array>()
  for (const [name, g] of Object.entries(grads)) out.set(variableKey(name), (await g.data()) as Float32Array)
  tf.dispose([value, ...Object.values(grads)])
  lora?.dispose()
  weights.dispose()
  return { loss, grads: out }
}

async function compareWithCpu(t: Test, config: ModelConfig, method: 'lora' | 'full') {
  const cpu = await lossAndGrads('cpu', config, method)
  const gpu = await lossAndGrads('webgpu', config, method)
  t.ok(Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss) < 1e-5, `loss ${gpu.loss} on webgpu, ${cpu.loss} on cpu`)
  t.same([...gpu.grads.keys()].sort(), [...cpu.grads.keys()].sort(), 'the same gradients')
  let worst = 0, worstName = ''
  for (const [name, g] of cpu.grads) {
    const e = relL2(gpu.grads.get(name)!, g)
    if (!(e <= worst)) { worst = e; worstName = name }
  }
  t.ok(worst < 1e-5, `every gradient within rel. L2 1e-5 of cpu (worst ${worst.toExponential(2)}: ${worstName})`)
  t.equal(gpuFailure(), null, 'no GPU error')
  return { cpu, gpu }
}

for (const arch of ['llama', 'gpt2'] as const) {
  t.test(`${arch} LoRA: loss and gradients on webgpu match cpu`, { skip }, async (t) => {
    await compareWithCpu(t, tinyConfig(arch), 'lora')
  })
}

t.test('full fine-tuning: every gradient, the tied embedding\'s included, matches cpu', { skip }, async (t) => {
  const { gpu } = await compareWithCpu(t, tinyConfig('qwen2'), 'full')
  const emb = gpu.grads.get('w/model.embed_tokens.weight')!
  t.ok(emb.some((x) => x !== 0), 'the embedding gradient is there and not zero')
})

const sft: MicroBatch[] = [
  batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14]], { lossFrom: [2, 2] }),
  batchOf([[3, 7, 11, 15, 19], [4, 8, 12, 16, 20, 24, 28]], { lossFrom: [1, 3] }),
]

function trainerFor(config: ModelConfig, batches: MicroBatch[], over: Partial<TrainOptions>, onStep: (loss: number) => void) {
  return new Trainer({
    config, weights: randomWeights(config, 2, 0.2), data: { batches: () => batches },
    options: { ...TRAIN_DEFAULTS, method: 'lora', epochs: 3, learningRate: 1e-2, warmupSteps: 0,
      lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'up_proj'] }, ...over },
    reporter: { onStep: (m) => onStep(m.trainLoss), onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
}

t.test('a full fine-tune through the Trainer follows the cpu run step by step', { skip }, async (t) => {
  const config = tinyConfig('llama')
  const run = async (backend: 'cpu' | 'webgpu') => {
    await selectBackend(backend)
    const losses: number[] = []
    const trainer = trainerFor(config, sft, { method: 'full' }, (l) => losses.push(l))
    await trainer.run()
    const embedding = (await trainer.trainableHost()).get('w/model.embed_tokens.weight')!.data
    trainer.dispose()
    return { losses, embedding }
  }
  const cpu = await run('cpu')
  const gpu = await run('webgpu')
  t.equal(gpu.losses.length, 6)
  const worst = Math.max(...gpu.losses.map((l, i) => Math.abs(l - cpu.losses[i]) / cpu.losses[i]))
  t.ok(worst < 1e-4, `losses agree step by step (worst relative difference ${worst.toExponential(2)}): ${gpu.losses.map((l) => l.toFixed(4)).join(' ')}`)
  t.ok(gpu.losses.at(-2)! < gpu.losses[0] && gpu.losses.at(-1)! < gpu.losses[1], 'and fall')
  t.ok(relL2(gpu.embedding, cpu.embedding) < 1e-4, `the trained embeddings agree (rel. L2 ${relL2(gpu.embedding, cpu.embedding).toExponential(2)})`)
})

t.test('gradient checkpointing on webgpu: a LoRA run with dropout takes the plain run\'s steps', { skip }, async (t) => {
  const config = tinyConfig('llama')
  const run = async (gradientCheckpointing: 'on' | 'off') => {
    await selectBackend('webgpu')
    const losses: number[] = []
    const trainer = trainerFor(config, sft, { gradientCheckpointing, lora: { rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj', 'up_proj'] } }, (l) => losses.push(l))
    t.equal(trainer.checkpointBlocks, gradientCheckpointing === 'on')
    await trainer.run()
    trainer.dispose()
    return losses
  }
  const plain = await run('off')
  const checkpointed = await run('on')
  t.equal(checkpointed.length, 6)
  const worst = Math.max(...checkpointed.map((l, i) => Math.abs(l - plain[i]) / plain[i]))
  t.ok(worst < 1e-5, `losses agree step by step (worst relative difference ${worst.toExponential(2)}): ${checkpointed.map((l) => l.toFixed(4)).join(' ')}`)
  t.equal(gpuFailure(), null, 'no GPU error')
})

t.test('100 steps: tensor count and GPU memory stay flat', { skip }, async (t) => {
  await selectBackend('webgpu')
  const config = tinyConfig('llama', { hiddenSize: 16, numHeads: 2, numKvHeads: 1, headDim: 8, intermediateSize: 24, numLayers: 1 })
  const samples: { tensors: number; bytesInGpu: number; allocatedInGpu: number }[] = []
  const trainer = trainerFor(config, [sft[0]], { epochs: 100, lora: { rank: 2, alpha: 4, dropout: 0.1, targetModules: ['q_proj', 'v_proj'] } }, () => {
    const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number }
    samples.push({ tensors: m.numTensors, bytesInGpu: m.numBytesInGPU, allocatedInGpu: m.numBytesAllocatedInGPU })
  })
  const started = performance.now()
  await trainer.run()
  const seconds = (performance.now() - started) / 1000
  t.equal(samples.length, 100, `100 steps in ${seconds.toFixed(1)} s`)
  t.equal(new Set(samples.map((s) => s.tensors)).size, 1, `numTensors ${samples[0].tensors} after every step`)
  // Bytes in GPU buffers wobble by a few hundred as small tensors move between CPU and GPU
  // storage; a leak would grow them step after step. The buffer pool fills during the first
  // steps, then is reused.
  const peak = (from: number, to: number, key: 'bytesInGpu' | 'allocatedInGpu') => Math.max(...samples.slice(from, to).map((s) => s[key]))
  t.ok(peak(50, 100, 'bytesInGpu') <= peak(0, 50, 'bytesInGpu'),
    `bytes held by live tensors on the GPU do not grow: peak ${peak(0, 50, 'bytesInGpu')} in steps 1–50, ${peak(50, 100, 'bytesInGpu')} in steps 51–100`)
  // The pool may still take one more small buffer size late (tens of bytes); a leak of even one
  // tiny tensor per step would add kilobytes over 50 steps.
  t.ok(peak(50, 100, 'allocatedInGpu') <= peak(0, 50, 'allocatedInGpu') + 1024,
    `GPU bytes allocated by the pool: peak ${peak(0, 50, 'allocatedInGpu')} in steps 1–50, ${peak(50, 100, 'allocatedInGpu')} in steps 51–100`)
  trainer.dispose()
  t.equal(gpuFailure(), null)
})

t.test('"GPU required" refuses the software adapter; auto-selection passes over it', { skip }, async (t) => {
  await t.rejects(selectBackend('webgpu', () => {}, { requireGpu: true }),
    /webgpu unavailable: a GPU is required but the WebGPU adapter is a software one \(mesa|software/)
  const lines: string[] = []
  const chosen = await selectBackend('auto', (l) => lines.push(l))
  t.not(chosen.name, 'webgpu')
  t.match(lines[1], /webgpu: passed over in auto mode: a software adapter/)
  const asked = await selectBackend('webgpu', (l) => lines.push(l))
  t.equal(asked.gpu, false, 'asked for by name, it runs, and says it is not a GPU')
  t.match(lines[2], /trainer backend: webgpu on .*\(software; .*limits: binding \d+ MiB/)
})

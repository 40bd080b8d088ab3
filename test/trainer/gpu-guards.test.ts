// The GPU path's decisions, on any machine: which adapters count as a GPU, "GPU required",
// backend settings from the environment, the memory/index plan that rejects shapes a WebGPU
// device would silently get wrong, and that the whole training loop reads tensors only
// asynchronously (sync reads crash on webgpu in Node). The same guards against a real WebGPU
// device are in webgpu-traps.test.ts.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { forbidSyncReads } from '../../src/trainer/backend/forbid-sync-reads.ts'
import { describeAdapter, isSoftwareAdapter, type AdapterReport } from '../../src/trainer/backend/gpu-adapter.ts'
import { F32_EXACT_INTEGER_LIMIT, logitsChunkRows, planMemory } from '../../src/trainer/backend/memory-plan.ts'
import { backendSettingsFromEnv, notAGpuReason, selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const limits = { maxStorageBufferBindingSize: 128 * 2 ** 20, maxBufferSize: 2 ** 32 - 1, maxStorageBuffersPerShaderStage: 16, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024 }
// What Dawn reports for Mesa 25's lavapipe, and for an NVIDIA GPU through its Vulkan driver.
const lavapipe: AdapterReport = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', isFallbackAdapter: true, limits }
const nvidia: AdapterReport = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false, limits: { ...limits, maxStorageBufferBindingSize: 2 ** 32 - 4 } }

t.test('software adapters are recognised by flag, architecture or name', async (t) => {
  t.ok(isSoftwareAdapter(lavapipe))
  t.notOk(isSoftwareAdapter(nvidia))
  t.ok(isSoftwareAdapter({ ...lavapipe, isFallbackAdapter: false }), 'architecture "software"')
  t.ok(isSoftwareAdapter({ ...nvidia, description: 'SwiftShader Device (Subzero)' }), 'SwiftShader by name')
  t.ok(isSoftwareAdapter({ ...nvidia, vendor: 'mesa', device: 'lavapipe' }), 'lavapipe by name')
  t.match(describeAdapter(lavapipe), /mesa \/ software \/ llvmpipe.*\(software; .*binding 128 MiB.*16 storage buffers per stage/)
  t.match(describeAdapter(nvidia), /nvidia \/ hopper \(hardware; NVIDIA H100/)
})

t.test('GPU required: only a hardware adapter or libtensorflow on CUDA counts', async (t) => {
  t.equal(notAGpuReason('webgpu', nvidia, false), null)
  t.match(notAGpuReason('webgpu', lavapipe, false), /software/)
  t.equal(notAGpuReason('tensorflow', null, true), null)
  t.match(notAGpuReason('tensorflow', null, false), /libtensorflow runs on the CPU/, 'tfjs-node-gpu that fell back to the CPU')
  t.match(notAGpuReason('wasm', null, false), /wasm computes on the CPU/)
  await t.rejects(selectBackend('cpu', () => {}, { requireGpu: true }), /cpu unavailable: a GPU is required but cpu computes on the CPU/)
  await t.rejects(selectBackend('auto', () => {}, { requireGpu: true }), /no trainer backend could be loaded: tensorflow unavailable.*wasm unavailable: a GPU is required/)
  const chosen = await selectBackend('cpu', () => {})
  t.equal(chosen.gpu, false, 'without the setting the cpu backend is fine')
})

t.test('backend settings come from SKILLET_TRAINER_BACKEND and SKILLET_TRAINER_REQUIRE_GPU', async (t) => {
  t.same(backendSettingsFromEnv({}), { requested: 'auto', requireGpu: false, threads: 'auto', matmul: 'auto' })
  t.same(backendSettingsFromEnv({ SKILLET_TRAINER_BACKEND: 'webgpu', SKILLET_TRAINER_REQUIRE_GPU: 'true' }), { requested: 'webgpu', requireGpu: true, threads: 'auto', matmul: 'auto' })
  t.same(backendSettingsFromEnv({ SKILLET_TRAINER_REQUIRE_GPU: '0' }).requireGpu, false)
  t.throws(() => backendSettingsFromEnv({ SKILLET_TRAINER_BACKEND: 'cuda' }), /unknown trainer backend "cuda"/)
  t.throws(() => backendSettingsFromEnv({ SKILLET_TRAINER_REQUIRE_GPU: 'maybe' }), /must be true or false/)
})

t.test('memory plan: every weight, activation and logits chunk must fit one storage binding', async (t) => {
  // The bench configuration fits with room to spare.
  const bench = tinyConfig('llama', { hiddenSize: 256, numHeads: 4, numKvHeads: 4, headDim: 64, intermediateSize: 688, numLayers: 4, vocabSize: 512 })
  const plan = planMemory(bench, 8, 128, limits, { method: 'lora' })
  t.equal(plan.logitsChunkRows, Math.floor(16 * 2 ** 20 / 512), 'logits chunks capped at 16M floats')
  t.same(plan.tensors[0].what, 'MLP activations', 'largest tensor first')

  // A Qwen2.5-0.5B-like model: its 151936 × 896 embedding (519 MiB) cannot be bound under 128 MiB.
  const qwen = tinyConfig('qwen2', { vocabSize: 151936, hiddenSize: 896, numHeads: 14, numKvHeads: 2, headDim: 64, intermediateSize: 4864, numLayers: 24 })
  t.throws(() => planMemory(qwen, 8, 512, limits, { method: 'lora' }), /storage binding limit 128\.0 MiB\): weight token embedding \[151936, 896\] is 519\.3 MiB; weight output head \[896, 151936\]/)
  const onNvidia = planMemory(qwen, 8, 512, nvidia.limits, { method: 'full' })
  t.ok(onNvidia.persistentBytes > 4 * 494e6 * 4 * 0.95, `full fine-tuning keeps weights, gradients and two moments (${(onNvidia.persistentBytes / 2 ** 30).toFixed(1)} GiB)`)
  // Logits chunks shrink to the binding limit when it is smaller than the 64 MiB target.
  t.equal(logitsChunkRows(151936, 32 * 2 ** 20), Math.floor(8 * 2 ** 20 / 151936))
  t.equal(logitsChunkRows(151936), Math.floor(16 * 2 ** 20 / 151936))
  // Attention scores grow with T²: a long sequence can fail where a short one fits.
  t.throws(() => planMemory(bench, 8, 2048, limits, { method: 'lora' }), /attention scores \[8, 4, 2048, 2048\] is 512\.0 MiB/)
})

t.test('memory plan: indices above 2^24 are refused (f32 cannot hold them exactly)', async (t) => {
  const huge = tinyConfig('llama', { vocabSize: F32_EXACT_INTEGER_LIMIT + 2, hiddenSize: 1, numHeads: 1, numKvHeads: 1, headDim: 1, intermediateSize: 1 })
  const roomy = { maxStorageBufferBindingSize: 2 ** 31 }
  t.throws(() => planMemory(huge, 1, 8, roomy, { method: 'lora' }), /vocabulary of 16777218 tokens: ids above 2\^24 are not exact in f32/)
  t.doesNotThrow(() => planMemory(huge, 1, 8, roomy, { method: 'lora', checkIndices: false }), 'only the index guard catches it')
  t.throws(() => planMemory(tinyConfig('llama'), 4097, 4096, roomy, { method: 'lora', checkIndices: true }), /16781312 tokens per micro-batch: row indices/)
})

t.test('the training loop never reads a tensor synchronously (LoRA, full, DPO, validation)', async (t) => {
  await selectBackend('cpu')
  const config = tinyConfig('llama')
  const sft = [batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14]], { lossFrom: [2, 2] })]
  const preference = [{ ...batchOf([[5, 6, 7, 40], [5, 6, 7, 50]], { lossFrom: [3, 3] }), pairs: 1 }]
  const lift = forbidSyncReads()
  t.teardown(lift)
  // The ban is real: this is what a sync read anywhere on the path would do.
  const probe = tf.scalar(1)
  t.throws(() => probe.dataSync(), /dataSync\(\) on a 0-D tensor: synchronous reads are forbidden/)
  t.throws(() => probe.arraySync(), /arraySync\(\)/)
  probe.dispose()
  for (const method of ['lora', 'full', 'dpo'] as const) {
    const batches = method === 'dpo' ? preference : sft
    const run = new Trainer({
      config, weights: randomWeights(config, 2, 0.2), data: { batches: () => batches, validation: batches },
      options: { ...TRAIN_DEFAULTS, method, epochs: 2, warmupSteps: 0, lora: { rank: 2, alpha: 4, dropout: 0.1, targetModules: ['q_proj', 'v_proj'] } },
      reporter: { onStep() {}, onEval() {}, onCheckpoint() {}, onEvent() {} },
    })
    const result = await run.run()
    t.ok(Number.isFinite(result.finalTrainLoss) && Number.isFinite(result.validLoss!), `${method}: trained and validated with sync reads banned`)
    await run.trainableHost()
    run.dispose()
  }
})

// Child process for wasm-threads.test.ts: trains a small Llama (LoRA, then full) on the wasm
// backend with the thread count and matmul engine given by SKILLET_TRAINER_THREADS and
// SKILLET_TRAINER_MATMUL (read as the trainer reads them), and prints one JSON line: the threads
// and engine the backend reports, each step's loss, and the trained weights. Shapes are large
// enough that XNNPACK and onnxruntime split every product across their pools.
import * as tf from '@tensorflow/tfjs-core'
import { backendSettingsFromEnv, selectBackend } from '../../../src/trainer/backend/select-backend.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from '../model-fixture.ts'

const settings = backendSettingsFromEnv(process.env)
const selected = await selectBackend('wasm', () => {}, { threads: settings.threads, matmul: settings.matmul })
const config = tinyConfig('llama', { hiddenSize: 128, numHeads: 4, numKvHeads: 2, intermediateSize: 256, vocabSize: 96 })
const rows = Array.from({ length: 4 }, (_, b) => Array.from({ length: 48 }, (_, i) => (b * 13 + i * 5) % 96))
const batch = batchOf(rows)
const out: Record<string, unknown> = { threads: selected.threads, matmul: selected.matmul }
for (const method of ['lora', 'full'] as const) {
  const losses: number[] = []
  const trainer = new Trainer({
    config,
    weights: randomWeights(config, 4, 0.1),
    data: { batches: () => [batch, batch, batch] },
    options: {
      ...TRAIN_DEFAULTS, method, epochs: 1, learningRate: 1e-3, warmupSteps: 0,
      lora: { rank: 8, alpha: 16, dropout: 0.1, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
    },
    reporter: { onStep: (m) => losses.push(m.trainLoss), onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  await trainer.run()
  const trained = await trainer.trainableHost()
  out[method] = { losses, weights: Object.fromEntries([...trained].map(([name, t]) => [name, Array.from(t.data)])) }
  trainer.dispose()
}
out.tensorsLeft = tf.memory().numTensors
process.stdout.write(JSON.stringify(out) + '\n')

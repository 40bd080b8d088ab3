// A LEARNING test: LoRA fine-tuning teaches a tiny random Llama a task it cannot do before —
// after "<bos> a b c d <sep>" answer f(a) then <eos>, where f is a fixed permutation of 20
// symbols — and it then solves held-out prompts (unseen combinations) by greedy decoding.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { greedyGenerate } from '../../src/trainer/model/generate.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import type { StepMetrics } from '../../src/trainer/train/reporter.ts'
import { randomWeights, tinyConfig } from './model-fixture.ts'
import { EOS, heldOut, mappingBatches } from './helpers/mapping-task.ts'

t.test('LoRA learns a mapping and generalises to held-out prompts', async (t) => {
  const backend = await selectBackend('wasm')
  t.equal(backend.name, 'wasm')
  const config = tinyConfig('llama', { hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2 })
  const batches = mappingBatches(16)
  const steps: StepMetrics[] = []
  const trainer = new Trainer({
    config,
    weights: randomWeights(config, 1, 0.1),
    data: { batches },
    options: {
      ...TRAIN_DEFAULTS, method: 'lora', epochs: 12, learningRate: 5e-3, warmupRatio: 0.05,
      lora: { rank: 8, alpha: 16, dropout: 0, targetModules: [...LLAMA_LORA_MODULES] },
    },
    reporter: { onStep: (m) => steps.push(m), onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  const exactMatch = async () => {
    const out = await greedyGenerate(trainer.weights, trainer.lora, heldOut.map((e) => e.prompt), { maxNewTokens: 2, eosId: EOS })
    return out.filter((o, i) => o.join() === heldOut[i].answer.join()).length / heldOut.length
  }
  const before = await exactMatch()
  const started = performance.now()
  await trainer.run()
  const seconds = (performance.now() - started) / 1000
  const after = await exactMatch()
  t.ok(heldOut.length >= 50, `${heldOut.length} held-out prompts`)
  t.ok(before <= 0.1, `before training: ${(before * 100).toFixed(1)}% exact match`)
  t.ok(after >= 0.9, `after training: ${(after * 100).toFixed(1)}% exact match (${seconds.toFixed(1)} s, ${steps.length} steps)`)
  t.ok(steps.at(-1)!.trainLoss < steps[0].trainLoss / 3, `loss fell from ${steps[0].trainLoss.toFixed(3)} to ${steps.at(-1)!.trainLoss.toFixed(3)}`)
  trainer.dispose()
  t.equal(tf.memory().numTensors, 0, 'nothing left allocated after dispose')
})

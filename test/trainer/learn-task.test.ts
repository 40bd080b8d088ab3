// A LEARNING test: LoRA fine-tuning teaches a tiny random Llama a task it cannot do before —
// after "<bos> a b c d <sep>" answer f(a) then <eos>, where f is a fixed permutation of 20
// symbols — and it then solves held-out prompts (unseen combinations) by greedy decoding.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { greedyGenerate } from '../../src/trainer/model/generate.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import type { StepMetrics } from '../../src/trainer/train/reporter.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const BOS = 3, SEP = 2, EOS = 1
const f = (x: number) => 30 + (((x - 10) * 7) % 20) // symbols 10..29 → answers 30..49
const rng = Random.fromSeed(7)
const example = () => {
  const symbols = [0, 0, 0, 0].map(() => 10 + Math.floor(rng.next() * 20))
  return { prompt: [BOS, ...symbols, SEP], answer: [f(symbols[0]), EOS] }
}
const train = Array.from({ length: 240 }, example)
const heldOut = Array.from({ length: 60 }, example).filter((e) => !train.some((x) => x.prompt.join() === e.prompt.join()))

t.test('LoRA learns a mapping and generalises to held-out prompts', async (t) => {
  const backend = await selectBackend('wasm')
  t.equal(backend.name, 'wasm')
  const config = tinyConfig('llama', { hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2 })
  const batchSize = 16
  const batches = (epoch: number) => {
    const order = Random.fromSeed(100 + epoch).permutation(train.length)
    const out = []
    for (let i = 0; i < order.length; i += batchSize) {
      const rows = order.slice(i, i + batchSize).map((j) => train[j])
      out.push(batchOf(rows.map((e) => [...e.prompt, ...e.answer]), { lossFrom: rows.map((e) => e.prompt.length) }))
    }
    return out
  }
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

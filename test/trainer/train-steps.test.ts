// The training loop on wasm: tensor count stays flat across steps (LoRA, full, DPO), gradient
// accumulation equals one big batch, DPO starts at ln 2 and learns the preference, and two
// runs with the same seed are bit-identical.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import type { TrainingMethod } from '../../src/protocol/auto-hyperparameters.ts'
import type { EvalMetrics, Reporter, StepMetrics } from '../../src/trainer/train/reporter.ts'
import { TRAIN_DEFAULTS, Trainer, type MicroBatch } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const config = tinyConfig('llama')
const sft = [
  batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14]], { lossFrom: [2, 2] }),
  batchOf([[3, 7, 11, 15, 19], [4, 8, 12, 16, 20, 24, 28]], { lossFrom: [1, 3] }),
]
// Two preference pairs per batch: chosen rows first, then the rejected rows of the same pairs.
const preference = [0, 1].map((k) => ({
  ...batchOf([[5, 6, 7, 40 + k], [8, 9, 10, 42 + k], [5, 6, 7, 50 + k], [8, 9, 10, 52 + k]], { lossFrom: [3, 3, 3, 3] }),
  pairs: 2,
}))

function recorder() {
  const steps: (StepMetrics & { numTensors: number })[] = []
  const evals: EvalMetrics[] = []
  const reporter: Reporter = {
    onStep: (m) => steps.push({ ...m, numTensors: tf.memory().numTensors }),
    onEval: (e) => evals.push(e),
    onCheckpoint() {},
    onEvent() {},
  }
  return { steps, evals, reporter }
}

function trainer(method: TrainingMethod, batches: MicroBatch[], reporter: Reporter, over: Partial<typeof TRAIN_DEFAULTS> = {}) {
  return new Trainer({
    config,
    weights: randomWeights(config, 2, 0.2),
    data: { batches: () => batches, validation: batches },
    options: {
      ...TRAIN_DEFAULTS, method, epochs: 4, learningRate: 1e-2, warmupSteps: 0,
      lora: { rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj', 'up_proj'] },
      ...over,
    },
    reporter,
  })
}

t.before(async () => {
  await selectBackend('wasm')
})

for (const method of ['lora', 'full', 'dpo'] as const) {
  t.test(`${method}: tensor count is flat across steps and epochs`, async (t) => {
    const { steps, evals, reporter } = recorder()
    const run = trainer(method, method === 'dpo' ? preference : sft, reporter)
    await run.run()
    t.equal(steps.length, 8)
    t.equal(evals.length, 8, 'a validation point at every step of an 8-step run: more than the 4 epochs')
    const counts = steps.map((s) => s.numTensors)
    t.same(new Set(counts).size, 1, `numTensors after every step: ${counts.join(', ')}`)
    t.ok(steps.every((s) => Number.isFinite(s.trainLoss) && s.tokensPerSec > 0), 'finite loss and throughput every step')
    run.dispose()
    t.equal(tf.memory().numTensors, 0, 'dispose frees everything')
  })
}

t.test('DPO starts at ln 2 (policy = reference) and learns to prefer the chosen answers', async (t) => {
  const { steps, evals, reporter } = recorder()
  const run = trainer('dpo', preference, reporter, { epochs: 10 })
  await run.run()
  t.ok(Math.abs(steps[0].trainLoss - Math.LN2) < 1e-5, `first loss ${steps[0].trainLoss} = ln 2`)
  t.ok(evals.at(-1)!.validLoss < 0.55, `validation loss fell to ${evals.at(-1)!.validLoss}`)
  t.equal(evals.at(-1)!.validAccuracy, 1, 'every pair prefers its chosen answer')
  t.ok(steps.at(-1)!.rewardMargin! > 0, 'positive reward margin')
  run.dispose()
})

t.test('gradient accumulation over two micro-batches equals one step on their union', async (t) => {
  const union = batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14], [3, 7, 11, 15, 19], [4, 8, 12, 16, 20, 24, 28]], { lossFrom: [2, 2, 1, 3] })
  const a = trainer('full', sft, recorder().reporter, { epochs: 1, gradAccumSteps: 2, maxGradNorm: 0 })
  const b = trainer('full', [union], recorder().reporter, { epochs: 1, maxGradNorm: 0 })
  await a.run()
  await b.run()
  const wa = await a.trainableHost()
  const wb = await b.trainableHost()
  let worst = 0
  for (const [name, x] of wa) {
    const y = wb.get(name)!.data
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(x.data[i] - y[i]))
  }
  t.ok(worst < 1e-5, `weights after one step agree (max |Δ| ${worst.toExponential(2)})`)
  a.dispose()
  b.dispose()
})

t.test('same seed, same backend: bit-identical weights; another seed differs', async (t) => {
  const final = async (seed: number) => {
    const run = trainer('lora', sft, recorder().reporter, { seed, epochs: 2 })
    await run.run()
    const host = await run.trainableHost()
    run.dispose()
    return [...host.values()].map((h) => Buffer.from(h.data.buffer).toString('base64')).join()
  }
  const first = await final(11)
  t.equal(await final(11), first, 'identical')
  t.not(await final(12), first, 'a different seed gives different weights')
})

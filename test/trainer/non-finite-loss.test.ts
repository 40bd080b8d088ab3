// A diverging run stops with NonFiniteTrainingError before a NaN reaches the weights or a report:
// the step whose loss or gradient is not finite applies nothing and reports nothing.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import type { Reporter, StepMetrics } from '../../src/trainer/train/reporter.ts'
import { NonFiniteTrainingError, TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

t.before(async () => {
  await selectBackend('wasm')
})

t.test('a learning rate of 1e305 fails the run at the first non-finite step', async (t) => {
  const config = tinyConfig('llama')
  const steps: StepMetrics[] = []
  const reporter: Reporter = { onStep: (m) => steps.push(m), onEval() {}, onCheckpoint() {}, onEvent() {} }
  const batches = [batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14]], { lossFrom: [2, 2] })]
  const run = new Trainer({
    config,
    weights: randomWeights(config, 2, 0.2),
    data: { batches: () => batches },
    options: { ...TRAIN_DEFAULTS, method: 'lora', epochs: 20, learningRate: 1e305, warmupSteps: 0, maxGradNorm: 0, lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] } },
    reporter,
  })
  const err = await run.run().then(() => null, (e: unknown) => e)
  t.ok(err instanceof NonFiniteTrainingError, `the run fails: ${String(err)}`)
  const failure = err as NonFiniteTrainingError
  t.match(failure.message, /training diverged at step \d+: the (loss|gradient norm) is (NaN|-?Infinity)/)
  t.ok(steps.length < 20, 'it stopped early')
  t.ok(steps.every((s) => Number.isFinite(s.trainLoss) && Number.isFinite(s.gradNorm)), 'no non-finite number was reported')
  t.equal(failure.step, steps.length + 1, 'the failing step is the one after the last reported')
  run.dispose()
  t.equal(tf.memory().numTensors, 0, 'nothing leaked on the way out')
})

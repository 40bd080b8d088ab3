// The forgetting check: a base model that knows some "general text" (trained on it first), then
// fine-tuned hard on a few other rows, gets worse on that text; the check reports the rise (base vs
// fine-tuned loss) with a warning. An untrained adapter changes nothing.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { forgettingCheck, FORGETTING_WARN_RISE } from '../../src/trainer/train/forgetting-check.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const config = tinyConfig('llama')
const train = [batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14, 18, 22]], { lossFrom: [1, 1] })]
// "General text": other tokens in other orders, every token after the first a target.
const general = [batchOf([[30, 31, 32, 33, 34, 35, 36], [40, 38, 36, 34, 32, 30], [25, 27, 29, 31, 33]], { lossFrom: [1, 1, 1] })]
const reporter = { onStep() {}, onEval() {}, onCheckpoint() {}, onEvent() {} }

t.before(async () => {
  await selectBackend('wasm')
})

for (const method of ['lora', 'full'] as const) {
  t.test(`${method}: a run trained to overfit reports a rise, with a warning`, async (t) => {
    // The base model: pre-trained on the general text, so there is something to forget.
    const pre = new Trainer({ config, weights: randomWeights(config, 3, 0.2), data: { batches: () => general }, options: { ...TRAIN_DEFAULTS, method: 'full', epochs: 40, learningRate: 1e-2, warmupSteps: 0, lora: { rank: 1, alpha: 1, dropout: 0, targetModules: [] } }, reporter })
    await pre.run()
    const host = await pre.weights.toHost()
    pre.dispose()
    const untrained = new Trainer({ config, weights: host, data: { batches: () => train }, options: { ...TRAIN_DEFAULTS, method, epochs: 1, lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'up_proj', 'down_proj'] } }, reporter })
    const base = method === 'full' ? ModelWeights.fromHost(config, host, { trainable: false }) : null
    const before = await forgettingCheck(untrained, base, general, { texts: 3, source: 'test' })
    t.ok(Math.abs(before.relative_change) < 1e-6 && !before.warning, `before training: no change (${before.relative_change})`)
    untrained.dispose()

    const run = new Trainer({
      config, weights: host, data: { batches: () => train },
      options: { ...TRAIN_DEFAULTS, method, epochs: 30, learningRate: method === 'full' ? 1e-2 : 3e-2, warmupSteps: 0, lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'up_proj', 'down_proj'] } },
      reporter,
    })
    const result = await run.run()
    t.ok(result.finalTrainLoss < 0.5, `the training rows are learnt (loss ${result.finalTrainLoss.toFixed(3)})`)
    const after = await forgettingCheck(result, base, general, { texts: 3, source: 'test' })
    t.equal(after.texts, 3)
    t.ok(after.fine_tuned_loss > after.base_loss, `held-out loss rose: ${after.base_loss.toFixed(3)} → ${after.fine_tuned_loss.toFixed(3)}`)
    t.ok(after.relative_change > FORGETTING_WARN_RISE && after.warning, `a warning past ${FORGETTING_WARN_RISE * 100}% (${(after.relative_change * 100).toFixed(1)}%)`)
    base?.dispose()
    run.dispose()
    t.equal(tf.memory().numTensors, 0)
  })
}

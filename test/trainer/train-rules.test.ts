// The pure rules of training: learning-rate schedule, "auto" hyperparameters, one AdamW
// update against the formula, global-norm clipping, the seeded RNG, and target selection.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { AdamW } from '../../src/trainer/train/adamw.ts'
import { learningRateFor, pretrainingLearningRate, resolveHyperparameters } from '../../src/protocol/auto-hyperparameters.ts'
import { clipByGlobalNorm } from '../../src/trainer/train/clip-gradients.ts'
import { learningRateAt } from '../../src/trainer/train/lr-schedule.ts'
import { selectTargets } from '../../src/trainer/train/targets.ts'

t.test('learning-rate schedule', async (t) => {
  const s = { peak: 1, totalSteps: 110, warmupSteps: 10, decay: 'linear' as const, minRatio: 0 }
  t.equal(learningRateAt(s, 0), 0.1, 'warmup starts above zero')
  t.equal(learningRateAt(s, 9), 1, 'warmup ends at the peak')
  t.equal(learningRateAt(s, 60), 0.5, 'linear: halfway down')
  t.equal(learningRateAt(s, 110), 0, 'linear: zero at the end')
  t.ok(Math.abs(learningRateAt({ ...s, decay: 'cosine' }, 60) - 0.5) < 1e-12, 'cosine: half at the midpoint')
  t.ok(learningRateAt({ ...s, decay: 'cosine' }, 30) > learningRateAt(s, 30), 'cosine stays higher early')
  t.equal(learningRateAt({ ...s, minRatio: 0.1 }, 110), 0.1, 'floors at minRatio')
})

t.test('auto hyperparameters', async (t) => {
  const auto = { nEpochs: 'auto', batchSize: 'auto', learningRateMultiplier: 'auto' } as const
  t.same(resolveHyperparameters(auto, { examples: 10, tokens: 2000 }),
    { nEpochs: 10, batchSize: 1, learningRateMultiplier: 0.05 }, 'tiny set: more epochs, batch 1')
  t.same(resolveHyperparameters(auto, { examples: 40, tokens: 800 }),
    { nEpochs: 3, batchSize: 1, learningRateMultiplier: 0.05 }, 'the demo set: 3 epochs, batch 1')
  t.same(resolveHyperparameters(auto, { examples: 5000, tokens: 1e6 }),
    { nEpochs: 3, batchSize: 10, learningRateMultiplier: 0.1 }, 'mid-size set: 3 epochs, 0.2% batch')
  t.same(resolveHyperparameters(auto, { examples: 100000, tokens: 2e8 }),
    { nEpochs: 1, batchSize: 100, learningRateMultiplier: 0.2 }, 'long sequences halve the batch; big sets get one epoch')
  t.same(resolveHyperparameters({ nEpochs: 2, batchSize: 4, learningRateMultiplier: 1 }, { examples: 10, tokens: 10 }),
    { nEpochs: 2, batchSize: 4, learningRateMultiplier: 1 }, 'explicit values win')
})

t.test('the learning rate: estimated pre-training rate (from the width) · method factor · multiplier', async (t) => {
  const close = (a: number, b: number, what: string) => t.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) + 1e-12, `${what}: ${a} ≈ ${b}`)
  close(pretrainingLearningRate(768), 6e-4, 'GPT-3 Small width → its pre-training rate')
  close(pretrainingLearningRate(4096), 1.125e-4, '7B width → about GPT-3 6.7B\'s 1.2e-4')
  t.equal(pretrainingLearningRate(1), 1e-2, 'capped above')
  t.equal(pretrainingLearningRate(1e6), 3e-5, 'floored below')
  close(learningRateFor('lora', 0.1, { hiddenSize: 4096 }), 1.125e-4, 'LoRA on a 7B model at 0.1: the customary 1e-4 range')
  close(learningRateFor('full', 0.1, { hiddenSize: 4096 }), 1.125e-5, 'full fine-tuning ten times lower')
  close(learningRateFor('dpo', 0.1, { hiddenSize: 4096 }), learningRateFor('lora', 0.1, { hiddenSize: 4096 }), 'DPO trains LoRA adapters: the LoRA rate')
  close(learningRateFor('lora', 0.05, { hiddenSize: 64 }), 3.6e-3, 'the demo model, batch 1')
})

t.test('one AdamW step follows the formula; clipping scales by the global norm', async (t) => {
  await selectBackend('cpu')
  const p = tf.variable(tf.tensor2d([[1, -2], [3, 0.5]]), true, 'adamw-test-p')
  const g = tf.tensor2d([[0.5, 0.1], [-0.3, 2]])
  const opt = new AdamW({ weightDecay: 0.1 })
  opt.apply([p], new Map([[p.name, g]]), 0.01)
  const got = await p.data()
  const gv = [0.5, 0.1, -0.3, 2], pv = [1, -2, 3, 0.5]
  pv.forEach((x, i) => {
    const m = 0.1 * gv[i], v = 0.001 * gv[i] ** 2
    const want = x * (1 - 0.01 * 0.1) - 0.01 * (m / 0.1) / (Math.sqrt(v / 0.001) + 1e-8)
    t.ok(Math.abs(got[i] - want) < 1e-6, `p[${i}] = ${got[i]} (want ${want})`)
  })
  const grads = new Map([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([0, 4])]])
  const norm = await clipByGlobalNorm(grads, 1)
  t.equal(norm, 5, 'global norm of (3, 4)')
  t.ok(Math.abs((await grads.get('b')!.data())[1] - 0.8) < 1e-5, 'scaled to norm 1')
  tf.dispose([p, g, ...grads.values()])
  opt.dispose()
})

t.test('seeded RNG: reproducible, resumable from its state', async (t) => {
  const a = Random.fromSeed(5)
  a.next()
  const saved = a.state()
  const rest = [a.next(), a.nextUint32(), a.uniform(-1, 1)]
  const b = Random.fromState(saved)
  t.same([b.next(), b.nextUint32(), b.uniform(-1, 1)], rest)
  t.not(Random.fromSeed(6).next(), Random.fromSeed(5).next())
  const perm = Random.fromSeed(1).permutation(50)
  t.same([...perm].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i), 'a permutation')
})

t.test('targets: position t predicts token t+1 where the loss mask is set', async (t) => {
  const T = 4
  const batch = { batchSize: 2, seqLen: T, ids: Int32Array.from([5, 6, 7, 8, 9, 10, 0, 0]), attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 0, 0]), lossMask: Int32Array.from([0, 0, 1, 1, 0, 1, 0, 0]) }
  const targets = selectTargets(batch)
  t.same([...targets.rows], [1, 2, 4], 'rows b·T + t')
  t.same([...targets.labels], [7, 8, 10])
  t.same([...targets.sequence], [0, 0, 1])
})

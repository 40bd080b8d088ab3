// The training loop's evaluation: validation on a fixed sample every `everySteps` (more points than
// epochs), the whole validation file at each checkpoint (checkpoint metrics by OpenAI's names),
// early stopping on a run whose validation loss only rises, and the run ending on the best
// checkpoint's weights (or the last step's when asked).
import t, { type Test } from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { AdamW } from '../../src/trainer/train/adamw.ts'
import { readCheckpoint } from '../../src/trainer/train/checkpoint-format.ts'
import { LocalCheckpointStore } from '../../src/trainer/train/checkpoint-store.ts'
import { afterCheckpoint, afterValidation, EVALUATION_DEFAULTS, INITIAL_EVALUATION_STATE, sampleBatches, validationInterval, type EvaluationOptions } from '../../src/trainer/train/evaluation-schedule.ts'
import type { CheckpointInfo, EvalMetrics, Reporter } from '../../src/trainer/train/reporter.ts'
import { TRAIN_DEFAULTS, Trainer, type MicroBatch } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const config = tinyConfig('llama')
const train = [
  batchOf([[1, 5, 9, 13, 17, 21], [2, 6, 10, 14]], { lossFrom: [2, 2] }),
  batchOf([[3, 7, 11, 15, 19], [4, 8, 12, 16, 20, 24, 28]], { lossFrom: [1, 3] }),
]
// The same contexts continued by other tokens: the more the model learns the training rows, the worse these get.
const contradicting = [
  batchOf([[1, 5, 9, 40, 41, 42], [2, 6, 10, 43]], { lossFrom: [2, 2] }),
  batchOf([[3, 7, 44, 45, 46], [4, 8, 12, 47, 48, 49, 50]], { lossFrom: [1, 3] }),
]

function recorder() {
  const evals: EvalMetrics[] = []
  const checkpoints: CheckpointInfo[] = []
  const events: string[] = []
  const reporter: Reporter = { onStep() {}, onEval: (e) => evals.push(e), onCheckpoint: (c) => checkpoints.push(c), onEvent: (_level, m) => events.push(m) }
  return { evals, checkpoints, events, reporter }
}

async function store(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'skillet-eval-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return new LocalCheckpointStore(dir, { keep: 1000 })
}

function trainer(validation: MicroBatch[], reporter: Reporter, evaluation: Partial<EvaluationOptions>, checkpoints: LocalCheckpointStore | null, over: Partial<typeof TRAIN_DEFAULTS> = {}) {
  return new Trainer({
    config,
    weights: randomWeights(config, 2, 0.2),
    data: { batches: () => train, validation },
    options: {
      ...TRAIN_DEFAULTS, method: 'lora', epochs: 6, learningRate: 2e-2, warmupSteps: 0,
      lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'up_proj'] },
      evaluation: { ...EVALUATION_DEFAULTS, ...evaluation },
      ...over,
    },
    reporter,
    checkpoints,
  })
}

t.before(async () => {
  await selectBackend('wasm')
})

t.test('the schedule: 10–20 points by default, a sample of leading batches, patience and the best checkpoint', async (t) => {
  t.equal(validationInterval('auto', 8), 1, 'short runs validate every step')
  t.equal(validationInterval('auto', 20), 1)
  for (const total of [21, 40, 41, 100, 399, 1000, 12345]) {
    const points = Math.floor(total / validationInterval('auto', total))
    t.ok(points >= 10 && points <= 20, `${total} steps: ${points} points`)
  }
  t.equal(validationInterval(7, 100), 7, 'eval_every as given')
  t.same(sampleBatches([30, 30, 30, 30], (n) => n), [30, 30], 'up to 64 examples')
  t.same(sampleBatches([100, 5], (n) => n), [100], 'at least one batch')

  let s = INITIAL_EVALUATION_STATE
  const early = { patience: 2, minDelta: 0.1 }
  let d = afterValidation(s, 1.0, early)
  t.ok(d.improved && !d.stop, 'the first point is the lowest')
  d = afterValidation(d.state, 0.95, early)
  t.ok(!d.improved && !d.stop, 'an improvement within min_delta does not count')
  d = afterValidation(d.state, 0.5, early)
  t.ok(d.improved && d.state.pointsSinceLowest === 0, 'a real improvement resets the patience')
  d = afterValidation(d.state, 0.6, early)
  d = afterValidation(d.state, 0.7, early)
  t.ok(d.stop, 'two points without improvement stop the run')
  t.notOk(afterValidation(INITIAL_EVALUATION_STATE, 1, null).stop, 'no early stopping unless asked')

  s = afterCheckpoint(INITIAL_EVALUATION_STATE, 5, { valid_loss: 0.9, valid_mean_token_accuracy: 0.4 }, 'valid_loss')
  s = afterCheckpoint(s, 10, { valid_loss: 0.7, valid_mean_token_accuracy: 0.3 }, 'valid_loss')
  s = afterCheckpoint(s, 15, { valid_loss: 0.7 }, 'valid_loss')
  t.same(s.best, { step: 10, value: 0.7 }, 'lowest loss; a tie keeps the earlier')
  let a = afterCheckpoint(INITIAL_EVALUATION_STATE, 5, { valid_mean_token_accuracy: 0.4 }, 'valid_mean_token_accuracy')
  a = afterCheckpoint(a, 10, { valid_mean_token_accuracy: 0.3 }, 'valid_mean_token_accuracy')
  t.same(a.best, { step: 5, value: 0.4 }, 'accuracy: higher is better')
  t.equal(afterCheckpoint(INITIAL_EVALUATION_STATE, 5, { train_loss: 1 }, 'valid_loss').best, null, 'no metric, no best')
})

t.test('validation points arrive every step, more than epochs; each checkpoint has the whole file\'s metrics', async (t) => {
  const { evals, checkpoints, reporter } = recorder()
  const run = trainer(train, reporter, {}, await store(t), { epochs: 3 })
  const result = await run.run()
  t.same(evals.map((e) => e.step), [1, 2, 3, 4, 5, 6], 'a validation point at every step of a 6-step run (3 epochs)')
  t.same(checkpoints.map((c) => c.step), [2, 4, 6], 'checkpoints at the epoch ends')
  for (const c of checkpoints) {
    t.same(Object.keys(c.metrics).sort(), ['full_valid_loss', 'full_valid_mean_token_accuracy', 'train_loss', 'train_mean_token_accuracy', 'valid_loss', 'valid_mean_token_accuracy'], `step ${c.step}: every metric`)
    t.ok(Object.values(c.metrics).every(Number.isFinite), 'finite')
  }
  t.ok(evals.filter((e) => e.fullValidLoss !== undefined).every((e) => [2, 4, 6].includes(e.step)), 'the whole file at checkpoints only')
  t.ok(result.best && result.best.metric === 'valid_loss', `best checkpoint ${JSON.stringify(result.best)}`)
  t.equal(result.earlyStopped, null)
  run.dispose()

  const every = recorder()
  const sparse = trainer(train, every.reporter, { everySteps: 4 }, null, { epochs: 4 })
  await sparse.run()
  t.same(every.evals.map((e) => e.step), [2, 4, 6, 8], 'eval_every 4 plus the epoch ends')
  sparse.dispose()
  t.equal(tf.memory().numTensors, 0)
})

t.test('early stopping ends a run whose validation loss rises, on the best checkpoint', async (t) => {
  const checkpoints = await store(t)
  const { evals, checkpoints: saved, events, reporter } = recorder()
  const run = trainer(contradicting, reporter, { earlyStopping: { patience: 2, minDelta: 0 } }, checkpoints)
  const result = await run.run()
  const losses = evals.map((e) => e.validLoss)
  t.ok(losses.at(-1)! > losses[0], `validation loss rose: ${losses.map((l) => l.toFixed(3)).join(' → ')}`)
  t.ok(result.earlyStopped, 'stopped early')
  t.ok(result.steps < run.totalSteps, `after ${result.steps} of ${run.totalSteps} steps`)
  t.match(result.earlyStopped?.reason, /has not improved by more than 0 for 2 validation points/)
  t.ok(events.some((m) => m.startsWith(`stopped early at step ${result.steps}`)), 'an event says when and why')
  const lowest = evals.reduce((b, e) => (e.validLoss < b.validLoss ? e : b))
  t.equal(result.best?.step, lowest.step, `the best checkpoint is the lowest validation point (step ${lowest.step})`)
  t.ok(saved.some((c) => c.step === lowest.step), 'the lowest point was made a checkpoint')
  t.ok(saved.some((c) => c.step === result.steps), 'and so was the stop')
  t.equal(result.servedStep, result.best?.step, 'the run ends on the best checkpoint')
  const served = await run.trainableHost()
  run.dispose()

  // The weights are the best checkpoint's, bit for bit.
  const probe = trainer(contradicting, recorder().reporter, {}, null)
  const optimizer = new AdamW({})
  readCheckpoint((await checkpoints.load(result.best!.step))!.files, probe.lora!.variables(), optimizer)
  const fromCheckpoint = await probe.trainableHost()
  optimizer.dispose()
  probe.dispose()
  for (const [k, v] of served) t.ok(Buffer.from(v.data.buffer).equals(Buffer.from(fromCheckpoint.get(k)!.data.buffer)), `${k} is the best checkpoint's`)

  const last = recorder()
  const lastRun = trainer(contradicting, last.reporter, { earlyStopping: { patience: 2, minDelta: 0 }, serve: 'last' }, await store(t))
  const lastResult = await lastRun.run()
  t.equal(lastResult.servedStep, lastResult.steps, "serve 'last': the last step's weights")
  t.equal(lastResult.best?.step, result.best?.step, 'the best is still named')
  lastRun.dispose()
})

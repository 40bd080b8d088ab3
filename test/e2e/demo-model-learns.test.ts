// The newcomer's first job learns visibly. (1) A job on the demo model with every hyperparameter
// left to "auto", on the shipped 40-example dataset, trains through the real scheduler, executor
// and trainer, and its training loss ends below 0.7 of where it started. (2) A user's own small
// dataset with another reply format, trained the way the service trains it (auto rule, the
// model-width learning rate), makes the demo model answer held-out prompts in that format.
// Both take the product's code path: the auto rule, the width-scaled learning rate, the trainer.
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { EXAMPLE_DATASET_PATH } from '../../src/models/demo-dataset.ts'
import { ensureDemoModel } from '../../src/models/demo-model.ts'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { greedyGenerate } from '../../src/trainer/model/generate.ts'
import { encodeTrainingSet } from '../../src/trainer/run/training-set.ts'
import { trainOptions } from '../../src/trainer/run/train-options.ts'
import { TextTokenizer } from '../../src/trainer/tokenizer/text-tokenizer.ts'
import { learningRateFor, resolveHyperparameters } from '../../src/protocol/auto-hyperparameters.ts'
import { Trainer } from '../../src/trainer/train/trainer.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { tmpDir } from '../helpers/test-app.ts'

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

t.test('a default job on the demo model: the training loss ends below 0.7 of its start', async (t) => {
  const ctx = await startRealTrainerApp(t, { SKILLET_TRAINER_BACKEND: 'auto' }) // as a newcomer's server: the backend chosen automatically
  const rows = (await fs.readFile(EXAMPLE_DATASET_PATH, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as object)
  t.equal(rows.length, 40, 'the shipped dataset has 40 examples')
  const file = await uploadDataset(ctx.client, rows)
  const job = await ctx.client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id })
  const done = await waitForJob(ctx.client, job.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  t.same(done.hyperparameters, { n_epochs: 3, batch_size: 1, learning_rate_multiplier: 0.05 }, 'auto: 3 epochs, batch 1, multiplier 0.05')

  const events = await allEvents(ctx.client, job.id)
  const started = events.find((e) => e.message.startsWith('Trainer attempt 1 started'))
  t.match(started?.message, /^Trainer attempt 1 started: trainer backend: wasm on the CPU, \d+ threads?, matmul on onnxruntime \(chosen automatically\)$/, 'the backend line says what was chosen')
  const hint = events.find((e) => e.message.startsWith('no GPU in use'))
  t.match(hint, { level: 'info', message: /a GPU needs @tensorflow\/tfjs-node-gpu with CUDA, or a Vulkan driver for WebGPU/ }, 'and one informational line what a GPU needs')
  const plan = events.find((e) => e.message.startsWith('Training on 40 examples'))
  t.match(plan?.data, { total_steps: 120, learning_rate: learningRateFor('lora', 0.05, { hiddenSize: 64 }) }, plan?.message ?? 'the plan event')
  const loss = events.filter((e) => e.type === 'metrics').map((e) => e.data as { step: number; train_loss: number })
    .sort((a, b) => a.step - b.step).map((m) => m.train_loss)
  t.equal(loss.length, 120, 'every step reported')
  // Batch 1 makes single steps noisy: the end is the mean of the last 10 steps.
  const start = loss[0], end = mean(loss.slice(-10))
  t.ok(end < 0.7 * start, `training loss fell from ${start.toFixed(3)} to ${end.toFixed(3)} (ratio ${(end / start).toFixed(3)}, must be < 0.7)`)
})

t.test("a user's own small dataset: the demo model learns its reply format", async (t) => {
  await selectBackend('wasm')
  const dir = await tmpDir(t, 'skillet-demo-learns-')
  await ensureDemoModel(path.join(dir, 'model'))
  const model = await loadModelDir(path.join(dir, 'model'))
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const ask = (thing: string) => `What colour is a ${thing}?`
  const answer = (thing: string) => `Answer: I think a ${thing} is blue.`
  const things = ['car', 'boat', 'shoe', 'lamp', 'door', 'book', 'chair', 'cup', 'kite', 'hat', 'bell', 'ring']
  const rows = things.map((x) => ({ messages: [{ role: 'user', content: ask(x) }, { role: 'assistant', content: answer(x) }] }))
  const set = encodeTrainingSet(tokenizer, 'lora', rows, [], 128)
  const auto = { nEpochs: 'auto', batchSize: 'auto', learningRateMultiplier: 'auto' } as const
  const hp = resolveHyperparameters(auto, { examples: set.examples, tokens: set.tokensPerEpoch })
  const trainer = new Trainer({
    config: model.config,
    weights: model.weights,
    data: set.data(hp.batchSize, 42),
    options: trainOptions(model.config, { method: 'lora', epochs: hp.nEpochs, learningRate: learningRateFor('lora', hp.learningRateMultiplier, model.config), seed: 42 }),
    reporter: { onStep() {}, onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  t.teardown(() => trainer.dispose())
  const heldOut = ['tree', 'bird', 'coat']
  const replies = async () => {
    const out: string[] = []
    for (const x of heldOut) {
      const prompt = tokenizer.encodeChat([{ role: 'user', content: ask(x) }], { addGenerationPrompt: true })
      const [tokens] = await greedyGenerate(trainer.weights, trainer.lora, [prompt], { maxNewTokens: 16, eosId: tokenizer.eosTokenId! })
      out.push(tokenizer.decode(tokens, { skipSpecialTokens: true }))
    }
    return out
  }
  // The fixed words of the format, around the slot that varies: a dozen examples teach a random
  // tiny model the format, not yet to copy the word into the slot (it may leave the slot empty).
  const format = /^Answer: I think a\b.*\bblue\.$/
  const before = await replies()
  t.same(before.filter((r) => format.test(r)), [], `before training no reply has the format: ${JSON.stringify(before)}`)
  await trainer.run()
  const after = await replies()
  t.same(after.filter((r) => !format.test(r)), [], `after training every held-out reply has it: ${JSON.stringify(after)}`)
})

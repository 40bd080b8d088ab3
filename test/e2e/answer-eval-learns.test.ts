// The learning task of the trainer's tests, through the service with the official SDK, as the answer
// evaluation sees it: the demo model is fine-tuned on "Repeat the first of: W1 W2 W3" → "Word: W1."
// (test/helpers/first-word-task.ts; the job of test/inference/learning-through-api.test.ts) with
// held-out prompts as its validation file. The trainer's greedy answers at each checkpoint, scored by
// the graders, show exact match rising from ≈ 0% before training to ≥ 90%, in the job's events and in
// each checkpoint's spec-valid metrics; with best_checkpoint_metric 'eval_exact_match' the fine-tuned
// model has the best checkpoint's weights. No GGUF is exported (nothing is served here), to keep it short.
import type OpenAI from 'openai'
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { specErrors } from '../helpers/openai-spec.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { ask, heldOut, reply, train } from '../helpers/first-word-task.ts'

// Exact match reaches 100% by the ninth epoch (0, 2, 8, 6, 17, 29, 56, 80, 91, 100% at 20 epochs); 12 leave room.
const EPOCHS = 12

t.test('the answer evaluation shows the learning task learned, and the model is the best checkpoint', async (t) => {
  const ctx = await startRealTrainerApp(t, { SKILLET_TRAINER_GGUF_TYPE: 'none', SKILLET_TRAINER_THREADS: '1' })
  const { client } = ctx
  const chat = (words: string[]) => ({ messages: [{ role: 'user', content: ask(words) }, { role: 'assistant', content: reply(words) }] })
  const file = await uploadDataset(client, train.map(chat))
  const validation = await uploadDataset(client, heldOut.map(chat))
  // learning_rate_multiplier 0.07 on the 64-wide demo model: 7.2e-3 · 10 · 0.07 ≈ 5e-3, the trainer test's rate.
  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id, validation_file: validation.id, suffix: 'first-word', seed: 1,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: EPOCHS, batch_size: 8, learning_rate_multiplier: 0.07, best_checkpoint_metric: 'eval_exact_match' } as never } } })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 570_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  const ft = done.fine_tuned_model!

  // The answer evaluation: the model before training, then every checkpoint (one per epoch).
  const evals = (await allEvents(client, job.id)).filter((e) => (e.data as Record<string, unknown> | undefined)?.eval_exact_match !== undefined)
    .map((e) => e.data as { step: number; examples: number; eval_exact_match: number; eval_fuzzy_match: number }).sort((a, b) => a.step - b.step)
  const curve = evals.map((e) => `${e.step}: ${(e.eval_exact_match * 100).toFixed(0)}%`).join(', ')
  t.same(evals.map((e) => e.step).slice(0, 2), [0, Math.ceil(train.length / 8)], `an answer evaluation before training and at each checkpoint (${curve})`)
  t.equal(evals.length, EPOCHS + 1, `step 0 and ${EPOCHS} checkpoints`)
  t.ok(evals.every((e) => e.examples === heldOut.length), `each answers all ${heldOut.length} validation prompts`)
  t.ok(evals[0].eval_exact_match <= 0.1, `before training: ${(evals[0].eval_exact_match * 100).toFixed(1)}% exact match`)
  t.ok(evals.at(-1)!.eval_exact_match >= 0.9, `at the last checkpoint: ${(evals.at(-1)!.eval_exact_match * 100).toFixed(1)}% exact match`)
  t.ok(evals.at(-1)!.eval_fuzzy_match > evals[0].eval_fuzzy_match, `fuzzy match rose from ${evals[0].eval_fuzzy_match.toFixed(3)} to ${evals.at(-1)!.eval_fuzzy_match.toFixed(3)}`)
  const checkpointList: OpenAI.FineTuning.Jobs.FineTuningJobCheckpoint[] = []
  for await (const c of client.fineTuning.jobs.checkpoints.list(job.id, { limit: 7 })) checkpointList.push(c)
  t.equal(checkpointList.length, EPOCHS, 'a checkpoint per epoch')
  for (const c of checkpointList) {
    const scored = evals.find((e) => e.step === c.step_number)
    t.match(c.metrics, { valid_loss: Number, eval_exact_match: scored?.eval_exact_match, eval_fuzzy_match: scored?.eval_fuzzy_match }, `checkpoint ${c.step_number}: the scores of its event in its metrics`, { diagnostic: false })
    t.same(specErrors('FineTuningJobCheckpoint', c), [], `checkpoint ${c.step_number} matches the spec`, { diagnostic: false })
  }

  // The served model is the best checkpoint by exact match: the first to reach the highest score.
  const top = Math.max(...evals.slice(1).map((e) => e.eval_exact_match))
  const bestStep = evals.slice(1).find((e) => e.eval_exact_match === top)!.step
  const bestEvent = (await allEvents(client, job.id)).find((e) => e.message.startsWith('Best checkpoint: step '))
  t.match(bestEvent?.data, { step: bestStep, metric: 'eval_exact_match', value: top, served_step: bestStep }, bestEvent?.message ?? 'the best checkpoint is named')
  const adapterOf = async (model: string) => {
    const res = await fetch(`${ctx.baseURL}/models/${encodeURIComponent(model)}/artifacts/adapter/adapter_model.safetensors`, { headers: { authorization: `Bearer ${ctx.key}` } })
    t.equal(res.status, 200, `${model}: its adapter`, { diagnostic: false })
    return Buffer.from(await res.arrayBuffer())
  }
  const byStep = new Map(checkpointList.map((c) => [c.step_number, c.fine_tuned_model_checkpoint]))
  const servedAdapter = await adapterOf(ft)
  t.ok(servedAdapter.equals(await adapterOf(byStep.get(bestStep)!)), `${ft} has the weights of the best checkpoint, step ${bestStep}`)
  const lastStep = evals.at(-1)!.step
  if (bestStep !== lastStep) t.notOk(servedAdapter.equals(await adapterOf(byStep.get(lastStep)!)), `not the last step's (${lastStep})`)

})

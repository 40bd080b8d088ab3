// Evaluation through the service with the real trainer: a job whose validation answers contradict
// its training answers (so the validation loss soon rises: overfitting, by construction) stops early,
// succeeds, names its best checkpoint in its events and its `evaluation`, and its fine-tuned model is
// that checkpoint's weights; the forgetting check runs on the job's own forgetting_file.
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { assertSpec } from '../helpers/openai-spec.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver']
const chat = (user: string, assistant: string) => ({ messages: [{ role: 'user', content: user }, { role: 'assistant', content: assistant }] })

t.test('early stopping and the best checkpoint through the service', async (t) => {
  const ctx = await startRealTrainerApp(t)
  const { client } = ctx
  const training = await uploadDataset(client, WORDS.map((w) => chat(`Repeat ${w}`, `Word: ${w}.`)), 'train.jsonl')
  const general = await uploadDataset(client, ['Name a colour', 'What is two and two', 'Say hello'].map((q, i) => chat(q, ['Blue is a colour.', 'Two and two is four.', 'Hello there!'][i])), 'general.jsonl')
  const validation = await uploadDataset(client, WORDS.slice(0, 4).map((w) => chat(`Repeat ${w}`, `Never! ${w.toUpperCase()} ${w.length}`)), 'valid.jsonl')
  const job = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID, training_file: training.id, validation_file: validation.id, seed: 3,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 8, batch_size: 4, learning_rate_multiplier: 1, eval_every: 1, early_stopping_patience: 2, forgetting_file: general.id } as never } },
  })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 240_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  assertSpec(t, 'FineTuningJob', done)
  const evaluation = (done as unknown as { evaluation: {
    best_checkpoint: { step_number: number; fine_tuned_model_checkpoint: string; metric: string; value: number }
    served_step: number
    stopped_early: { step_number: number; reason: string } | null
    forgetting: { texts: number; source: string; base_loss: number; fine_tuned_loss: number; relative_change: number; warning: boolean }
  } }).evaluation
  t.ok(evaluation.stopped_early, `stopped early: ${JSON.stringify(evaluation.stopped_early)}`)
  const total = 8 * 3
  t.ok(evaluation.stopped_early!.step_number < total, `at step ${evaluation.stopped_early?.step_number} of ${total}`)
  t.ok(done.trained_tokens! > 0, 'trained_tokens counts the steps trained')

  const events = await allEvents(client, job.id)
  const stopped = events.find((e) => e.message.startsWith('Stopped early at step'))
  t.match(stopped?.message, new RegExp(`^Stopped early at step ${evaluation.stopped_early!.step_number} of ${total}: the validation loss has not improved by more than 0 for 2 validation points`))
  t.match(stopped?.data, { step: evaluation.stopped_early!.step_number, total_steps: total })
  const metrics = events.filter((e) => e.type === 'metrics').map((e) => e.data as { step: number; valid_loss?: number })
  t.equal(metrics.length, evaluation.stopped_early!.step_number, 'no step after the stop')
  t.ok(metrics.every((m) => m.valid_loss !== undefined), 'a validation point every step (eval_every 1)')

  const best = evaluation.best_checkpoint
  t.match(best, { metric: 'valid_loss', fine_tuned_model_checkpoint: `${done.fine_tuned_model}:ckpt-step-${best.step_number}` })
  t.equal(evaluation.served_step, best.step_number, 'the fine-tuned model is the best checkpoint')
  const lowest = Math.min(...metrics.map((m) => m.valid_loss!))
  t.equal(best.value, lowest, 'the best checkpoint has the lowest validation loss of the run')
  const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id, { limit: 100 })).data
  t.ok(checkpoints.some((c) => c.step_number === best.step_number && c.metrics.valid_loss === best.value), 'the best point is a checkpoint')
  t.ok(checkpoints.some((c) => c.step_number === evaluation.stopped_early!.step_number), 'so is the stop')
  t.ok(events.some((e) => e.message.startsWith(`Best checkpoint: step ${best.step_number} (valid_loss `)), 'an event names it')

  const headers = { authorization: `Bearer ${ctx.key}` }
  const adapterOf = async (m: string) => Buffer.from(await (await fetch(`${ctx.baseURL}/models/${m}/artifacts/adapter/adapter_model.safetensors`, { headers })).arrayBuffer())
  const served = await adapterOf(done.fine_tuned_model!)
  t.ok(served.equals(await adapterOf(best.fine_tuned_model_checkpoint)), "the model's adapter is the best checkpoint's")
  if (best.step_number !== evaluation.stopped_early!.step_number) {
    t.notOk(served.equals(await adapterOf(`${done.fine_tuned_model}:ckpt-step-${evaluation.stopped_early!.step_number}`)), "not the last step's")
  }

  t.match(evaluation.forgetting, { texts: 3, source: general.id }, 'the forgetting check used the forgetting_file')
  t.ok(Number.isFinite(evaluation.forgetting.base_loss) && Number.isFinite(evaluation.forgetting.fine_tuned_loss), `forgetting check: ${JSON.stringify(evaluation.forgetting)}`)
  const forgetting = events.find((e) => e.message.startsWith(`Forgetting check on 3 examples of ${general.id}: loss `))
  t.match(forgetting?.data, evaluation.forgetting, 'and its event')
  t.equal(forgetting?.level, evaluation.forgetting.warning ? 'warn' : 'info')
})

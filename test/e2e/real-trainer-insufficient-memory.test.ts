// A job whose training step cannot fit the trainer's memory even with gradient checkpointing
// (src/trainer/backend/memory-plan.ts: the wasm heap's 4 GiB) fails before its first step with
// insufficient_memory and a message that says what the step needs and how to make it smaller —
// and it is not retried: the same shapes would not fit on another attempt.
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'

t.test('a step too big for the heap fails the job with insufficient_memory, once', async (t) => {
  const { client } = await startRealTrainerApp(t)
  // 256 examples that each fill the demo model's 256 positions, all in one batch: 256 × 256 tokens.
  const words = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon']
  const long = (i: number) => Array.from({ length: 300 }, (_, k) => words[(i + k * 3) % words.length]).join(' ')
  const examples = Array.from({ length: 256 }, (_, i) => ({ messages: [{ role: 'user', content: 'Say the words.' }, { role: 'assistant', content: long(i) }] }))
  const file = await uploadDataset(client, examples)
  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 256 } } } })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(done.status, 'failed')
  t.equal(done.error?.code, 'insufficient_memory')
  t.match(done.error?.message, /^The job failed: a training step of 256 × 256 tokens on this model needs about [\d.]+ GiB/, done.error?.message ?? 'no error')
  const events = await allEvents(client, job.id)
  t.equal(events.filter((e) => e.message.startsWith('Trainer attempt')).length, 1, 'one attempt: not retried')
  t.notOk(events.some((e) => e.type === 'metrics'), 'no step was trained')
})

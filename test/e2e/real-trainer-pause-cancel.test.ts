// Pause, resume and cancel with the real trainer: the pause reaches the trainer through its
// heartbeat, it writes a checkpoint where it stands (mid-epoch, not at a scheduled checkpoint),
// reports paused and exits; resume launches a new attempt that continues from that checkpoint to
// success. A cancel stops the trainer process (SIGTERM from the executor) without a result.
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import type OpenAI from 'openai'
import { uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'

async function everyEvent(client: OpenAI, jobId: string): Promise<OpenAI.FineTuning.FineTuningJobEvent[]> {
  const events: OpenAI.FineTuning.FineTuningJobEvent[] = []
  for await (const e of client.fineTuning.jobs.listEvents(jobId, { limit: 100 })) events.push(e)
  return events.reverse()
}

t.test('pause checkpoints where the trainer stands; resume continues from there', async (t) => {
  const { client } = await startRealTrainerApp(t, { SKILLET_TRAINER_HEARTBEAT_SECONDS: '1' })
  // An epoch long enough (150 steps) that the pause, carried by a 1 s heartbeat, lands inside it even on a busy machine.
  const examples = Array.from({ length: 150 }, (_, i) => ({ messages: [{ role: 'user', content: `Repeat item${i}` }, { role: 'assistant', content: `Word: item${i}.` }] }))
  const file = await uploadDataset(client, examples)
  const job = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID,
    training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 1 } } },
  })
  await waitForJob(client, job.id, ['running'], 60_000)
  // Steps take ~20 ms here: pause as soon as training is under way, and it lands well inside epoch 1.
  const stepsSoFar = async () => (await client.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data.some((e) => e.type === 'metrics')
  while (!(await stepsSoFar())) await new Promise((r) => setTimeout(r, 20))

  await client.fineTuning.jobs.pause(job.id)
  const paused = await waitForJob(client, job.id, ['paused', 'succeeded', 'failed'], 60_000)
  t.equal(paused.status, 'paused', paused.error ? JSON.stringify(paused.error) : 'paused')
  const pausedAt = (await everyEvent(client, job.id)).find((e) => /^Fine-tuning job paused at step \d+$/.test(e.message))
  const step = Number(/step (\d+)/.exec(pausedAt?.message ?? '')?.[1])
  t.ok(step >= 1 && step < 150, `paused in the first epoch, at step ${step} of 300`)
  const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data.map((c) => c.step_number)
  t.same(checkpoints, [step], 'the pause wrote a checkpoint at that step (and only there)')

  await client.fineTuning.jobs.resume(job.id)
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 90_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  const events = await everyEvent(client, job.id)
  const messages = events.map((e) => e.message)
  t.ok(messages.includes(`resumed from checkpoint at step ${step} (epoch 1, batch ${step})`), 'the resumed attempt continued from the pause checkpoint')
  t.same(events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step), Array.from({ length: 300 }, (_, i) => i + 1), 'every step once')
})

t.test('cancel stops the trainer', async (t) => {
  const { client, executor } = await startRealTrainerApp(t, { SKILLET_TRAINER_HEARTBEAT_SECONDS: '1' })
  const examples = Array.from({ length: 200 }, (_, i) => ({ messages: [{ role: 'user', content: `Repeat item${i}` }, { role: 'assistant', content: `Word: item${i}.` }] }))
  const file = await uploadDataset(client, examples)
  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 1 } } } })
  await waitForJob(client, job.id, ['running'], 60_000)
  while (!(await client.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data.some((e) => e.type === 'metrics')) await new Promise((r) => setTimeout(r, 20))
  t.equal(executor.running, 1, 'the trainer runs')
  await client.fineTuning.jobs.cancel(job.id)
  const deadline = Date.now() + 10_000
  while (executor.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  t.equal(executor.running, 0, 'the trainer process is gone')
  const after = await client.fineTuning.jobs.retrieve(job.id)
  t.equal(after.status, 'cancelled')
  const models = (await client.models.list()).data.map((m) => m.id)
  t.same(models.filter((id) => id.startsWith('ft:')), [], 'no fine-tuned model was made')
  const steps = (await everyEvent(client, job.id)).filter((e) => e.type === 'metrics').length
  t.ok(steps < 600, `training stopped after ${steps} of 600 steps`)
})

import t from 'tap'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { allEvents, chatExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'

t.test('a job runs end to end through the fake trainer', async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const training = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  ctx.script(training.id, { steps: 6, stepMs: 20, checkpointEvery: 2 })
  const created = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: training.id, suffix: 'demo', metadata: { team: 'a' } })
  assertSpec(t, 'FineTuningJob', created)
  t.equal(created.status, 'validating_files')
  t.equal(created.fine_tuned_model, null)
  t.same(created.hyperparameters, { n_epochs: 'auto', batch_size: 'auto', learning_rate_multiplier: 'auto' })
  t.type(created.seed, 'number', 'a seed is generated when absent')
  t.equal(created.error, null)

  const done = await waitForJob(client, created.id, ['succeeded', 'failed', 'cancelled'])
  assertSpec(t, 'FineTuningJob', done)
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  t.match(done.fine_tuned_model, new RegExp(`^ft:${TEST_BASE_MODEL}:alpha[a-z0-9-]*:demo:[0-9A-Za-z]{8}$`))
  t.equal(done.trained_tokens, 600)
  t.type(done.finished_at, 'number')
  t.same(Object.keys(done.hyperparameters).sort(), ['batch_size', 'learning_rate_multiplier', 'n_epochs'])
  t.type(done.hyperparameters.n_epochs, 'number', 'hyperparameters resolved to numbers')

  const events = await allEvents(client, created.id)
  for (const e of events) assertSpec(t, 'FineTuningJobEvent', e)
  const messages = events.map((e) => e.message)
  t.match(messages, [
    `Created fine-tuning job: ${created.id}`,
    `Validating training file: ${training.id}`,
    'Files validated, moving job to queued state',
    /^Estimated \d+ training tokens per epoch over \d+ epochs?: \d+ steps, about/,
    'Fine-tuning job started',
  ])
  t.ok(messages.includes('Step 3/6: training loss=0.67'))
  t.ok(messages.includes('Checkpoint created at step 4'))
  t.same(messages.slice(-2), ['New fine-tuned model created', 'The job has successfully completed'])
  const metrics = events.filter((e) => e.type === 'metrics')
  t.same(metrics.map((e) => (e.data as { step: number }).step), [1, 2, 3, 4, 5, 6])
  t.match(metrics[0].data, { step: 1, total_steps: 6, train_loss: 2, train_mean_token_accuracy: Number })
  t.ok(events.every((e) => typeof e.data === 'object' && e.data !== null), 'data is always an object')

  const raw = await (await fetch(`${ctx.baseURL}/fine_tuning/jobs/${created.id}/events?limit=3`, { headers: { authorization: `Bearer ${ctx.key}` } })).json()
  assertSpec(t, 'ListFineTuningJobEventsResponse', raw)
  t.equal(raw.has_more, true)
  t.equal(raw.data[0].message, 'The job has successfully completed', 'newest first')

  const checkpoints = await client.fineTuning.jobs.checkpoints.list(created.id)
  const rawCkpt = await (await fetch(`${ctx.baseURL}/fine_tuning/jobs/${created.id}/checkpoints`, { headers: { authorization: `Bearer ${ctx.key}` } })).json()
  assertSpec(t, 'ListFineTuningJobCheckpointsResponse', rawCkpt)
  t.same(checkpoints.data.map((c) => c.step_number), [6, 4, 2])
  t.equal(checkpoints.data[0].fine_tuned_model_checkpoint, `${done.fine_tuned_model}:ckpt-step-6`)

  t.equal(done.result_files.length, 1)
  const resultFile = await client.files.retrieve(done.result_files[0])
  t.equal(resultFile.purpose, 'fine-tune-results')
  const csv = await (await client.files.content(done.result_files[0])).text()
  const lines = csv.trim().split('\n')
  t.equal(lines[0], 'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy')
  t.equal(lines.length, 7)
  t.equal(lines[1], '1,2,0.16666666666666666,,,,')

  const retrieved = await client.fineTuning.jobs.retrieve(created.id)
  t.same(retrieved, done)
  await assertApiError(t, client.fineTuning.jobs.cancel(created.id), { status: 400, param: 'fine_tuning_job_id' })
})

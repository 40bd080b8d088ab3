// A file that a job still to finish reads (training, validation, forgetting_file) cannot be deleted (400 file_in_use); once the job is over it can.
import t from 'tap'
import { assertApiError } from '../helpers/openai-spec.ts'
import { chatExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'

t.test('deleting a training, validation or forgetting file of a non-terminal job is refused', async (t) => {
  const ctx = await startJobsApp(t)
  const train = await uploadDataset(ctx.client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  const valid = await uploadDataset(ctx.client, Array.from({ length: 3 }, (_, i) => chatExample(i)), 'valid.jsonl')
  const general = await uploadDataset(ctx.client, Array.from({ length: 3 }, (_, i) => chatExample(i + 5)), 'general.jsonl')
  ctx.script(train.id, { steps: 1000, stepMs: 50 })
  const job = await ctx.client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: train.id, validation_file: valid.id,
    method: { type: 'supervised', supervised: { hyperparameters: { forgetting_file: general.id } as never } } })
  for (const file of [train, valid, general]) {
    await assertApiError(t, ctx.client.files.delete(file.id), { status: 400, code: 'file_in_use', param: 'file_id', message: new RegExp(job.id) })
  }
  t.equal((await ctx.client.files.retrieve(train.id)).id, train.id, 'the file is still there')
  await ctx.client.fineTuning.jobs.cancel(job.id)
  await waitForJob(ctx.client, job.id, ['cancelled'])
  t.same(await ctx.client.files.delete(train.id), { id: train.id, object: 'file', deleted: true }, 'deletable once the job is over')
})

// A training file whose bytes vanished from the blob store after validation (storage lost, or
// removed behind Skillet's back) fails the job with invalid_training_file and a message naming the
// file id — never the storage key or a server path.
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'

t.test('a training file missing from the blob store fails the job without showing storage keys', async (t) => {
  const { client, blobs } = await startRealTrainerApp(t)
  const examples = Array.from({ length: 10 }, (_, i) => ({ messages: [{ role: 'user', content: `Repeat item${i}` }, { role: 'assistant', content: `Word: item${i}.` }] }))
  const file = await uploadDataset(client, examples)
  const [stored] = (await blobs.list('files/')).filter((b) => b.key.endsWith(`/${file.id}`))
  t.ok(stored, 'the file is in the blob store')
  await blobs.delete(stored.key)

  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(done.status, 'failed')
  t.equal(done.error?.code, 'invalid_training_file')
  t.equal(done.error?.message, `The training file ${file.id} is no longer available.`)
  t.notMatch(done.error?.message ?? '', /files\/|blob not found/, 'no storage key in the message')
})

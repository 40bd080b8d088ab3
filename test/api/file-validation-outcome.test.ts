// A fine-tune file always ends `processed` or `error`, never stuck in `uploaded`: messages quoting
// the user's data are stored safely (a NUL byte included), and a validation that cannot be
// recorded marks the file `error` — so a job on it fails instead of waiting in validating_files.
import { eq } from 'drizzle-orm'
import t from 'tap'
import { toFile } from 'openai'
import { files } from '../../src/db/schema/index.ts'
import { startTestApp } from '../helpers/test-app.ts'
import { startJobsApp, TEST_BASE_MODEL, waitForJob } from '../helpers/jobs-test-app.ts'

const line = (role: string, content: string) => `{"messages":[{"role":"${role}","content":"${content}"},{"role":"assistant","content":"ok"}]}\n`

t.test('a file with NUL characters ends error, its message escapes them', async (t) => {
  const ctx = await startTestApp(t)
  const body = line('user', 'fine') + line('user', 'raw \u0000 byte') + line('us\\u0000er', 'escaped NUL in a role')
  const created = await ctx.client.files.create({ file: await toFile(Buffer.from(body), 'nul.jsonl'), purpose: 'fine-tune' })
  const done = await ctx.client.files.waitForProcessing(created.id, { pollInterval: 20, maxWait: 20_000 })
  t.equal(done.status, 'error')
  t.match(done.status_details, /line 2: .*\\u0000/, 'the raw NUL byte is shown escaped')
  t.match(done.status_details, /line 3: unknown role 'us\\u0000er'/, 'the role is quoted with its NUL escaped')
  t.notOk(done.status_details?.includes('\u0000'))
})

t.test('a validation that cannot be recorded ends the file in error and fails the job waiting on it', async (t) => {
  const ctx = await startJobsApp(t)
  const created = await ctx.client.files.create({ file: await toFile(Buffer.from(line('user', 'x')), 'a.jsonl'), purpose: 'user_data' })
  // As a crash would leave it: a fine-tune file still `uploaded`, whose bytes cannot be read.
  await ctx.database.db.update(files).set({ purpose: 'fine-tune', status: 'uploaded', blobKey: 'files/gone/nowhere' }).where(eq(files.id, created.id))
  const job = await ctx.client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: created.id })
  t.equal(job.status, 'validating_files')
  await ctx.services.recover()
  const file = await ctx.client.files.waitForProcessing(created.id, { pollInterval: 20, maxWait: 20_000 })
  t.equal(file.status, 'error')
  t.match(file.status_details, /could not be validated/)
  t.notMatch(file.status_details, /files\/gone|nowhere/, 'no storage path in the message')
  const failed = await waitForJob(ctx.client, job.id, ['failed'])
  t.equal(failed.error?.code, 'invalid_training_file')
  t.notMatch(failed.error?.message, /files\/gone|nowhere/, 'no storage path in the job error')
})

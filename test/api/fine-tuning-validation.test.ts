// Creating jobs: every refusal is a 400 naming its param; tenancy; listing with cursor and metadata; dry runs.
import t from 'tap'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { chatExample, preferenceExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { toFile } from 'openai'

t.test('job creation checks', async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const chat = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  const prefs = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => preferenceExample(i)), 'prefs.jsonl')
  const tiny = await uploadDataset(client, [chatExample(1), chatExample(2)], 'tiny.jsonl')
  const notes = await client.files.create({ file: await toFile(Buffer.from('hello'), 'notes.txt'), purpose: 'user_data' })
  const base = { model: TEST_BASE_MODEL, training_file: chat.id }

  t.test('precise 400s', async (t) => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['unknown model', { model: 'gpt-9' }, 'model'],
      ['missing file', { training_file: 'file-nope' }, 'training_file'],
      ['wrong purpose', { training_file: notes.id }, 'training_file'],
      ['format does not fit the method', { method: { type: 'dpo' } }, 'training_file'],
      ['preference file for supervised', { training_file: prefs.id }, 'training_file'],
      ['validation file missing', { validation_file: 'file-nope' }, 'validation_file'],
      ['n_epochs out of range', { method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 51 } } } }, 'method.supervised.hyperparameters.n_epochs'],
      ['batch_size not integer', { method: { type: 'supervised', supervised: { hyperparameters: { batch_size: 1.5 } } } }, 'method.supervised.hyperparameters.batch_size'],
      ['learning rate not positive', { hyperparameters: { learning_rate_multiplier: 0 } }, 'hyperparameters.learning_rate_multiplier'],
      ['learning rate multiplier over 10', { hyperparameters: { learning_rate_multiplier: 1e308 } }, 'hyperparameters.learning_rate_multiplier'],
      ['dpo learning rate multiplier over 10', { training_file: prefs.id, method: { type: 'dpo', dpo: { hyperparameters: { learning_rate_multiplier: 10.5 } } } }, 'method.dpo.hyperparameters.learning_rate_multiplier'],
      ['beta above 2', { training_file: prefs.id, method: { type: 'dpo', dpo: { hyperparameters: { beta: 2.5 } } } }, 'method.dpo.hyperparameters.beta'],
      ['beta on supervised', { method: { type: 'supervised', supervised: { hyperparameters: { beta: 0.1 } } } }, 'method.supervised.hyperparameters.beta'],
      ['suffix too long', { suffix: 'x'.repeat(65) }, 'suffix'],
      ['17 metadata pairs', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata'],
      ['metadata value too long', { metadata: { k: 'v'.repeat(513) } }, 'metadata.k'],
      ['unsupported method', { method: { type: 'reinforcement' } }, 'method.type'],
      ['seed negative', { seed: -1 }, 'seed'],
      ['both hyperparameters and method', { hyperparameters: { n_epochs: 2 }, method: { type: 'supervised' } }, 'hyperparameters'],
    ]
    for (const [name, patch, param] of cases) {
      await t.test(name, async (t) => {
        await assertApiError(t, client.fineTuning.jobs.create({ ...base, ...patch } as never), { status: 400, param })
      })
    }
  })

  t.test('the deprecated hyperparameters map to method.supervised', async (t) => {
    const job = await client.fineTuning.jobs.create({ ...base, hyperparameters: { n_epochs: 2, batch_size: 4 }, seed: 7 })
    assertSpec(t, 'FineTuningJob', job)
    t.same(job.method, { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 'auto' } } })
    t.equal(job.seed, 7)
  })

  t.test('too few examples: the job fails with invalid_n_examples', async (t) => {
    const job = await client.fineTuning.jobs.create({ ...base, training_file: tiny.id })
    await ctx.scheduler.scheduler.tick()
    const failed = await waitForJob(client, job.id, ['failed'])
    assertSpec(t, 'FineTuningJob', failed)
    t.match(failed.error, { code: 'invalid_n_examples', param: 'training_file', message: /has 2 examples, but at least 10/ })
  })

  t.test('dry run: validated and estimated, nothing trained', async (t) => {
    const job = await client.fineTuning.jobs.create({ ...base, dry_run: true, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 4 } } } } as never)
    await ctx.scheduler.scheduler.tick()
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    assertSpec(t, 'FineTuningJob', done)
    t.equal(done.status, 'succeeded')
    t.equal(done.fine_tuned_model, null)
    t.match(done, { dry_run: true, estimate: { total_steps: 9, estimated_seconds: Number } })
    t.same(done.hyperparameters, { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 0.05 })
    const events = (await client.fineTuning.jobs.listEvents(job.id)).data.map((e) => e.message)
    t.match(events[0], /^Dry run complete/)
    t.match(events[1], /^Estimated \d+ training tokens per epoch over 3 epochs: 9 steps/)
  })

  t.test('list: newest first, cursor, metadata filter', async (t) => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await client.fineTuning.jobs.create({ ...base, metadata: { batch: 'listing', n: String(i) } })).id)
    const raw = await (await fetch(`${ctx.baseURL}/fine_tuning/jobs?limit=2&metadata[batch]=listing`, { headers: { authorization: `Bearer ${ctx.key}` } })).json()
    assertSpec(t, 'ListPaginatedFineTuningJobsResponse', raw)
    t.same(raw.data.map((j: { id: string }) => j.id), [ids[2], ids[1]])
    t.equal(raw.has_more, true)
    const seen: string[] = []
    for await (const job of client.fineTuning.jobs.list({ limit: 2, metadata: { batch: 'listing' } })) seen.push(job.id)
    t.same(seen, [...ids].reverse())
    const one = await client.fineTuning.jobs.list({ metadata: { batch: 'listing', n: '1' } })
    t.same(one.data.map((j) => j.id), [ids[1]])
  })

  t.test('tenancy: another project sees none of it', async (t) => {
    const other = await ctx.clientFor('beta')
    const job = (await client.fineTuning.jobs.list({ limit: 1 })).data[0]
    await assertApiError(t, other.fineTuning.jobs.retrieve(job.id), { status: 404 })
    await assertApiError(t, other.fineTuning.jobs.cancel(job.id), { status: 404 })
    await assertApiError(t, other.fineTuning.jobs.pause(job.id), { status: 404 })
    await assertApiError(t, other.fineTuning.jobs.listEvents(job.id), { status: 404 })
    await assertApiError(t, other.fineTuning.jobs.checkpoints.list(job.id), { status: 404 })
    await assertApiError(t, other.fineTuning.jobs.create({ ...base }), { status: 400, param: 'training_file' })
    t.same((await other.fineTuning.jobs.list()).data, [])
  })

  t.test('cancel, pause and resume refuse wrong states with 400', async (t) => {
    const job = await client.fineTuning.jobs.create({ ...base })
    await assertApiError(t, client.fineTuning.jobs.resume(job.id), { status: 400, param: 'fine_tuning_job_id' })
    const cancelled = await client.fineTuning.jobs.cancel(job.id)
    assertSpec(t, 'FineTuningJob', cancelled)
    t.equal(cancelled.status, 'cancelled')
    await assertApiError(t, client.fineTuning.jobs.cancel(job.id), { status: 400, message: /already been cancelled/ })
    await assertApiError(t, client.fineTuning.jobs.pause(job.id), { status: 400 })
  })
})

// Jobs whose trainer is paused, cancelled, crashes or hangs — through the real local executor
// running the scripted fake trainer as a child process.
import t from 'tap'
import { assertSpec } from '../helpers/openai-spec.ts'
import { allEvents, chatExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'

const examples = (tag: string) => Array.from({ length: 10 }, (_, i) => chatExample(i)).concat([{ messages: [{ role: 'user', content: tag }, { role: 'assistant', content: tag }] }])

t.test('trainer life cycle', async (t) => {
  const ctx = await startJobsApp(t, { env: { SKILLET_HEARTBEAT_TIMEOUT_SECONDS: '5', SKILLET_JOB_MAX_ATTEMPTS: '2', SKILLET_LOCAL_MAX_TRAINERS: '2' } })
  const { client } = ctx

  t.test('pause keeps progress; resume continues from the checkpoint', async (t) => {
    const file = await uploadDataset(client, examples('pause'))
    ctx.script(file.id, { steps: 40, stepMs: 100, checkpointEvery: 100 })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    await waitForJob(client, job.id, ['running'])
    // Let a few steps happen, then pause.
    while ((await client.fineTuning.jobs.listEvents(job.id, { limit: 50 })).data.filter((e) => e.type === 'metrics').length < 3) await new Promise((r) => setTimeout(r, 50))
    const pausing = await client.fineTuning.jobs.pause(job.id)
    assertSpec(t, 'FineTuningJob', pausing)
    t.equal(pausing.status, 'pausing')
    const paused = await waitForJob(client, job.id, ['paused'])
    assertSpec(t, 'FineTuningJob', paused)
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(job.id)
    t.equal(checkpoints.data.length, 1, 'pausing wrote a checkpoint')
    const pausedAt = checkpoints.data[0].step_number
    t.ok(pausedAt >= 3 && pausedAt < 40)

    const resumed = await client.fineTuning.jobs.resume(job.id)
    t.equal(resumed.status, 'queued')
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'], 60_000)
    t.equal(done.status, 'succeeded', JSON.stringify(done.error))
    const events = await allEvents(client, job.id)
    const messages = events.map((e) => e.message)
    t.ok(messages.includes(`Fake trainer attempt 2: 11 examples, starting at step ${pausedAt}`), 'the second attempt resumed from the checkpoint')
    t.ok(messages.includes(`Fine-tuning job paused at step ${pausedAt}`))
    const steps = events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step)
    t.same(steps, Array.from({ length: 40 }, (_, i) => i + 1), 'every step reported exactly once')
  })

  t.test('cancel stops a running trainer', async (t) => {
    const file = await uploadDataset(client, examples('cancel'))
    ctx.script(file.id, { steps: 1000, stepMs: 50 })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    await waitForJob(client, job.id, ['running'])
    const cancelled = await client.fineTuning.jobs.cancel(job.id)
    assertSpec(t, 'FineTuningJob', cancelled)
    t.equal(cancelled.status, 'cancelled')
    // The scheduler stops the process; the trainer's later reports are refused.
    const deadline = Date.now() + 10_000
    while ((await ctx.scheduler.executor.observe(job.id)).phase === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    t.equal((await ctx.scheduler.executor.observe(job.id)).phase, 'gone', 'the trainer process was stopped and forgotten')
    t.equal((await client.fineTuning.jobs.retrieve(job.id)).status, 'cancelled')
  })

  t.test('a crashing trainer fails the job with the tail of its log', async (t) => {
    const file = await uploadDataset(client, examples('crash'))
    ctx.script(file.id, { steps: 10, crashAtStep: 3 })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    const failed = await waitForJob(client, job.id, ['failed', 'succeeded'])
    assertSpec(t, 'FineTuningJob', failed)
    t.equal(failed.status, 'failed')
    t.equal(failed.error?.code, 'trainer_failed')
    t.equal(failed.error?.message, 'The trainer exited with code 3: fake trainer: simulated crash at step 3: CUDA error: out of memory.', 'its own last line')
    t.equal(failed.fine_tuned_model, null)
  })

  t.test('a trainer killed by SIGKILL is retried from its checkpoint, within the attempt budget', async (t) => {
    const file = await uploadDataset(client, examples('sigkill'))
    ctx.script(file.id, { steps: 8, stepMs: 20, checkpointEvery: 2, killAtStep: 5 })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    const done = await waitForJob(client, job.id, ['failed', 'succeeded'])
    t.equal(done.status, 'succeeded', JSON.stringify(done.error))
    const events = await allEvents(client, job.id)
    const retry = events.find((e) => /Retrying from/.test(e.message))
    t.match(retry?.message, /^The trainer was killed by SIGKILL.*; its last words: fake trainer: allocating activations for step 5\. Retrying from the checkpoint at step 4 \(retry 1 of \d+\)$/)
    t.notMatch(retry?.message, /vkCreateInstance|VK_ERROR/, 'Vulkan noise is not the message')
  })

  t.test('a trainer that reports failure fails the job', async (t) => {
    const file = await uploadDataset(client, examples('diverge'))
    ctx.script(file.id, { steps: 10, failAtStep: 2 })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    const failed = await waitForJob(client, job.id, ['failed', 'succeeded'])
    t.same(failed.error, { code: 'training_diverged', message: 'loss became NaN at step 2', param: null })
  })

  t.test('a hanging trainer is reaped and the job retried from its checkpoint', async (t) => {
    const file = await uploadDataset(client, examples('hang'))
    ctx.script(file.id, { steps: 8, stepMs: 20, checkpointEvery: 2, hangAtStep: 6 })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'], 60_000)
    t.equal(done.status, 'succeeded', JSON.stringify(done.error))
    const messages = (await allEvents(client, job.id)).map((e) => e.message)
    t.ok(messages.some((m) => /^The trainer stopped sending heartbeats \(none for \d+ seconds\)\. Retrying from the checkpoint at step 4 \(retry 1 of 1\)$/.test(m)), 'retry event')
    t.ok(messages.includes('Fake trainer attempt 2: 11 examples, starting at step 4'))
    t.equal(messages.filter((m) => m === 'Checkpoint created at step 4').length, 1, 'no duplicated event')
  })

  t.test('a trainer lost more often than allowed fails the job with a clear error', async (t) => {
    const file = await uploadDataset(client, examples('lost'))
    ctx.script(file.id, { steps: 8, stepMs: 20, hangAtStep: 2, hangAlways: true })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
    const failed = await waitForJob(client, job.id, ['failed', 'succeeded'], 60_000)
    assertSpec(t, 'FineTuningJob', failed)
    t.equal(failed.error?.code, 'trainer_lost')
    t.match(failed.error?.message, /^The trainer stopped sending heartbeats \(none for \d+ seconds\), and the job already used its 2 attempts\.$/)
    const events = await allEvents(client, job.id)
    t.ok(events.some((e) => e.level === 'warn' && /Retrying from the start \(retry 1 of 1\)/.test(e.message)), 'retried once first')
    t.ok(events.some((e) => e.message === 'Fake trainer attempt 2: 11 examples, starting at step 0'))
  })
})

// The estimate before training counts tokens with the base model's own tokenizer and chat template,
// as the trainer will: a dry run's tokens per epoch and truncated examples are the trainer's numbers
// (supervised and DPO), with the length distribution; a base model whose tokenizer cannot be read
// falls back to characters / 4 and says so.
import t from 'tap'
import { assertSpec } from '../helpers/openai-spec.ts'
import { allEvents, chatExample, preferenceExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { TextTokenizer } from '../../src/trainer/tokenizer/text-tokenizer.ts'
import { defaultMaxLength, encodeTrainingSet } from '../../src/trainer/run/training-set.ts'

interface Estimate {
  tokens_per_epoch: number
  trained_tokens: number
  total_steps: number
  token_count: string
  example_tokens: { p50: number; p95: number; max: number } | null
  truncated_examples: number | null
  context_length: number | null
}

t.test('a dry run counts tokens as the trainer does', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'qwen2', dir, numLayers: 1, maxPositions: 64 })
  const ctx = await startJobsApp(t, { env: { SKILLET_BASE_MODELS: `tiny-real=${dir},${TEST_BASE_MODEL}=/nonexistent/${TEST_BASE_MODEL}` } })
  const { client } = ctx
  const model = await loadModelDir(dir)
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const maxLength = defaultMaxLength(model.config.maxPositions)

  const chat = [...Array.from({ length: 11 }, (_, i) => chatExample(i)), { messages: [{ role: 'user', content: 'Tell me a story' }, { role: 'assistant', content: 'Once upon a time '.repeat(20) }] }]
  const prefs = Array.from({ length: 10 }, (_, i) => preferenceExample(i))
  for (const [name, rows, method] of [['chat', chat, 'supervised'], ['preference', prefs, 'dpo']] as const) {
    await t.test(name, async (t) => {
      const file = await uploadDataset(client, rows as object[])
      const job = await client.fineTuning.jobs.create({ model: 'tiny-real', training_file: file.id, dry_run: true,
        method: { type: method, [method]: { hyperparameters: { n_epochs: 2, batch_size: 3 } } } } as never)
      const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
      assertSpec(t, 'FineTuningJob', done)
      t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the dry run succeeded')
      const trainer = encodeTrainingSet(tokenizer, method === 'dpo' ? 'dpo' : 'lora', rows as never, [], maxLength)
      const estimate = (done as unknown as { estimate: Estimate }).estimate
      t.match(estimate, { token_count: 'tokenizer', tokens_per_epoch: trainer.tokensPerEpoch, trained_tokens: trainer.tokensPerEpoch * 2, truncated_examples: trainer.truncated.training, context_length: 64, total_steps: Math.ceil(rows.length / 3) * 2 })
      t.ok(estimate.example_tokens && estimate.example_tokens.p50 <= estimate.example_tokens.p95 && estimate.example_tokens.p95 <= estimate.example_tokens.max, `a distribution: ${JSON.stringify(estimate.example_tokens)}`)
      const event = (await allEvents(client, job.id)).find((e) => e.message.startsWith('Estimated '))
      t.match(event?.data, { tokens_per_epoch: trainer.tokensPerEpoch, token_count: 'tokenizer', example_tokens: estimate.example_tokens })
      t.match(event?.message, /tokens counted with the base model's tokenizer and chat template \(examples: median \d+, p95 \d+, longest \d+ tokens\)/)
      if (name === 'chat') {
        t.equal(trainer.truncated.training, 1, 'the story is longer than the context')
        t.ok(estimate.example_tokens!.max > 64, 'its whole length is reported')
        t.match(event?.message, /; 1 example is longer than the context of 64 tokens and will be truncated$/)
      }
    })
  }

  await t.test('without a readable tokenizer: characters / 4, said so', async (t) => {
    const file = await uploadDataset(client, chat)
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id, dry_run: true } as never)
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    t.match((done as unknown as { estimate: Estimate }).estimate, { token_count: 'characters', example_tokens: null, truncated_examples: null })
    const event = (await allEvents(client, job.id)).find((e) => e.message.startsWith('Estimated '))
    t.match(event?.message, /tokens guessed as characters \/ 4 \(the tokenizer of tiny-test could not be read/)
  })
})

t.test("the estimate's seconds come from the speed finished jobs measured on the base model", async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const file = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  const dryRun = async () => {
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id, dry_run: true, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } } } as never)
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    return { estimate: (done as unknown as { estimate: Estimate & { estimated_seconds: number; speed: { tokens_per_second: number; overhead_seconds: number; backend: string | null; calibrated_jobs: number } } }).estimate, events: await allEvents(client, job.id) }
  }
  const train = async (speed: { backend: string; tokens_per_second: number; overhead_seconds: number }) => {
    const trained = await uploadDataset(client, Array.from({ length: 10 }, (_, i) => chatExample(i + 100)), `speed-${speed.tokens_per_second}.jsonl`)
    ctx.script(trained.id, { steps: 2, stepMs: 1, speed })
    const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: trained.id })
    t.equal((await waitForJob(client, job.id, ['succeeded', 'failed'])).status, 'succeeded')
  }

  const before = await dryRun()
  t.same(before.estimate.speed, { tokens_per_second: 2000, overhead_seconds: 0, backend: null, calibrated_jobs: 0 }, 'no job finished yet: SKILLET_ESTIMATE_TOKENS_PER_SECOND')
  t.equal(before.estimate.estimated_seconds, Math.max(1, Math.ceil(before.estimate.trained_tokens / 2000)))

  await train({ backend: 'wasm', tokens_per_second: 10, overhead_seconds: 4 })
  const once = await dryRun()
  t.same(once.estimate.speed, { tokens_per_second: 10, overhead_seconds: 4, backend: 'wasm', calibrated_jobs: 1 }, "the finished job's measurement")
  t.equal(once.estimate.estimated_seconds, Math.ceil(4 + once.estimate.trained_tokens / 10), 'overhead plus tokens at the measured speed')
  t.match(once.events.find((e) => e.message.startsWith('Estimated '))?.message, /; speed measured on 1 finished job \(wasm\)/)

  await train({ backend: 'wasm', tokens_per_second: 30, overhead_seconds: 2 })
  const twice = await dryRun()
  t.same(twice.estimate.speed, { tokens_per_second: 20, overhead_seconds: 3, backend: 'wasm', calibrated_jobs: 2 }, 'a moving average over finished jobs')
  t.equal(twice.estimate.estimated_seconds, Math.ceil(3 + twice.estimate.trained_tokens / 20))
})

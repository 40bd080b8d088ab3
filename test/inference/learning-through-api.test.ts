// The learning test through the API: fine-tune the demo model with the official SDK on a task it
// cannot do (user "Repeat the first of: W1 W2 W3" → assistant "Word: W1."; the setup of
// test/trainer/learn-task-gguf.test.ts), through the real scheduler, executor and trainer; then
// score the base model and the new ft: model with chat.completions on held-out prompts (word
// combinations never trained on), served by llama.cpp from their GGUFs: base ≈ 0%, ft ≥ 90%.
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { specErrors } from '../helpers/openai-spec.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { ask, heldOut, reply, train } from '../helpers/first-word-task.ts'


t.test('fine-tuned through the API, the ft: model answers held-out prompts the base model cannot', async (t) => {
  const ctx = await startRealTrainerApp(t, {}, { SKILLET_INFERENCE_THREADS: '1' })
  const { client } = ctx
  const file = await uploadDataset(client, train.map((words) => ({ messages: [{ role: 'user', content: ask(words) }, { role: 'assistant', content: reply(words) }] })))
  // learning_rate_multiplier 0.07 on the 64-wide demo model: 7.2e-3 · 10 · 0.07 ≈ 5e-3, the trainer test's rate.
  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id, suffix: 'first-word', seed: 1, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 20, batch_size: 8, learning_rate_multiplier: 0.07 } } } })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 540_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  const ft = done.fine_tuned_model!

  const exactMatch = async (model: string) => {
    let right = 0
    let example = ''
    for (const words of heldOut) {
      const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: ask(words) }], max_tokens: 12, temperature: 0 })
      t.same(specErrors('CreateChatCompletionResponse', answer), [], `${model}: a spec-valid answer`, { diagnostic: false })
      const text = answer.choices[0].message.content
      if (text === reply(words) && answer.choices[0].finish_reason === 'stop') right++
      example ||= `${JSON.stringify(ask(words))} → ${JSON.stringify(text)}`
    }
    return { rate: right / heldOut.length, example }
  }
  t.ok(heldOut.length >= 50, `${heldOut.length} held-out prompts, none seen in training`)
  const base = await exactMatch(DEMO_MODEL_ID)
  const tuned = await exactMatch(ft)
  t.ok(base.rate <= 0.1, `base model: ${(base.rate * 100).toFixed(1)}% exact match (e.g. ${base.example})`)
  t.ok(tuned.rate >= 0.9, `${ft}: ${(tuned.rate * 100).toFixed(1)}% exact match (e.g. ${tuned.example})`)

  // The same model streamed gives the same answer.
  const stream = await client.chat.completions.create({ model: ft, messages: [{ role: 'user', content: ask(heldOut[0]) }], max_tokens: 12, temperature: 0, stream: true })
  let streamed = ''
  for await (const chunk of stream) {
    t.same(specErrors('CreateChatCompletionStreamResponse', chunk), [], 'chunk matches the spec', { diagnostic: false })
    streamed += chunk.choices[0]?.delta.content ?? ''
  }
  const whole = await client.chat.completions.create({ model: ft, messages: [{ role: 'user', content: ask(heldOut[0]) }], max_tokens: 12, temperature: 0 })
  t.equal(streamed, whole.choices[0].message.content, 'streamed and whole answers agree')
  // Checkpoints are models too, served from the GGUF each checkpoint exported.
  const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data
  t.ok(checkpoints.length > 0, `${checkpoints.length} checkpoint models`)
  const ckpt = checkpoints[0].fine_tuned_model_checkpoint
  const fromCheckpoint = await client.chat.completions.create({ model: ckpt, messages: [{ role: 'user', content: ask(heldOut[0]) }], max_tokens: 12, temperature: 0 })
  t.same(specErrors('CreateChatCompletionResponse', fromCheckpoint), [], `${ckpt} answers`)
  t.equal(fromCheckpoint.model, ckpt)
  const completion = await client.completions.create({ model: ft, prompt: 'Word:', max_tokens: 4, temperature: 0 })
  t.same(specErrors('CreateCompletionResponse', completion), [], 'completions.create on the ft: model')
})

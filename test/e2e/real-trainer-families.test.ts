// Phi-3, Gemma-2 and Mistral (with a sliding window) through the whole service: tiny generated
// base models listed in SKILLET_BASE_MODELS, LoRA jobs created with the official openai SDK and run
// by the real trainer, PEFT target names checked against the architecture, and the fine-tuned
// models (and their base models, converted to GGUF on first use) answering chat.completions from
// llama.cpp.
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { makeTinyModel, type TinyModelOptions } from '../../src/trainer/tiny/make-tiny-model.ts'
import { uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { specErrors } from '../helpers/openai-spec.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { tmpDir } from '../helpers/test-app.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver']
const example = (word: string) => ({ messages: [{ role: 'user', content: `Repeat ${word}` }, { role: 'assistant', content: `Word: ${word}.` }] })

const FAMILIES: { id: string; options: Omit<TinyModelOptions, 'dir'>; targets: string[] }[] = [
  { id: 'tiny-phi3', options: { architecture: 'phi3' }, targets: ['qkv_proj', 'gate_up_proj'] },
  { id: 'tiny-gemma2', options: { architecture: 'gemma2', slidingWindow: 8 }, targets: ['q_proj', 'v_proj', 'down_proj'] },
  { id: 'tiny-mistral', options: { architecture: 'mistral', slidingWindow: 8 }, targets: ['q_proj', 'v_proj'] },
]

t.test('Phi-3, Gemma-2 and Mistral jobs through the SDK: trained, exported, served', async (t) => {
  const dir = await tmpDir(t, 'skillet-e2e-families-')
  for (const f of FAMILIES) await makeTinyModel({ ...f.options, dir: path.join(dir, f.id), hiddenSize: 32, numLayers: 2, seed: 2, initStd: 0.1 })
  const ctx = await startRealTrainerApp(t, {}, {
    SKILLET_BASE_MODELS: FAMILIES.map((f) => `${f.id}=${path.join(dir, f.id)}`).join(','),
    SKILLET_INFERENCE_THREADS: '1',
  })
  const { client } = ctx
  const file = await uploadDataset(client, WORDS.map(example))

  // A LoRA target the architecture does not have: the job fails at once, naming the real ones.
  const wrong = await client.fineTuning.jobs.create({ model: 'tiny-phi3', training_file: file.id,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, lora_target_modules: ['q_proj'] } as never } } })
  const wrongDone = await waitForJob(client, wrong.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(wrongDone.status, 'failed')
  t.equal(wrongDone.error?.code, 'invalid_hyperparameters')
  t.match(wrongDone.error?.message, /'q_proj' is not a projection of Phi3ForCausalLM; its projections are qkv_proj, o_proj, gate_up_proj, down_proj/)

  for (const f of FAMILIES) {
    const job = await client.fineTuning.jobs.create({ model: f.id, training_file: file.id, suffix: 'fam', seed: 3,
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, lora_target_modules: f.targets } as never } } })
    const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 300_000)
    t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : `${f.id}: the job succeeded`)
    const model = done.fine_tuned_model!
    const artifacts = await (await fetch(`${ctx.baseURL}/models/${model}/artifacts/adapter/adapter_config.json`, { headers: { authorization: `Bearer ${ctx.key}` } })).json() as { target_modules: string[] }
    t.same(artifacts.target_modules, [...f.targets].sort(), `${f.id}: the adapter targets the requested modules`)
    for (const served of [f.id, model]) {
      const answer = await client.chat.completions.create({ model: served, messages: [{ role: 'user', content: 'Repeat apple' }], max_tokens: 6, temperature: 0 })
      t.same(specErrors('CreateChatCompletionResponse', answer), [], `${served}: a spec-valid answer from llama.cpp`)
      t.ok(answer.usage!.completion_tokens >= 1, `${served}: generated ${JSON.stringify(answer.choices[0].message.content)}`)
    }
  }
  await fs.rm(dir, { recursive: true, force: true })
})

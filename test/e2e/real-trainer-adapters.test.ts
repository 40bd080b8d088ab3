// A job through the official SDK for each adapter type, on the real trainer: full fine-tuning
// (no adapter; every weight trained; a tenth of LoRA's learning rate; two GGUF types), LoRA with its
// shape set in the request (rank, alpha, dropout, target modules → the PEFT adapter; a Q4_K_M
// GGUF), QLoRA (a 4-bit base; adapter, merged model and GGUF from the dequantised base), and LoRA
// targets the architecture lacks (the job fails as bad input, in plain words).
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { llamaCppGenerate } from '../../src/trainer/export/llama-cpp-logits.ts'
import { decodeSafetensors } from '../../src/trainer/io/safetensors.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { tmpDir } from '../helpers/test-app.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver']
const example = (word: string) => ({ messages: [{ role: 'user', content: `Repeat ${word}` }, { role: 'assistant', content: `Word: ${word}.` }] })

t.test('adapter types and export types chosen per job', async (t) => {
  const ctx = await startRealTrainerApp(t)
  const { client } = ctx
  const training = await uploadDataset(client, WORDS.map(example), 'train.jsonl')
  const headers = { authorization: `Bearer ${ctx.key}` }
  const dir = await tmpDir(t, 'skillet-e2e-adapters-')
  const artifacts = async (model: string) => ((await (await fetch(`${ctx.baseURL}/models/${model}/artifacts`, { headers })).json()) as { data: { name: string }[] }).data.map((a) => a.name)
  const download = async (model: string, name: string) => {
    const res = await fetch(`${ctx.baseURL}/models/${model}/artifacts/${name}`, { headers })
    t.equal(res.status, 200, `download ${name}`)
    const file = path.join(dir, `${model.replaceAll(':', '_')}-${name.replaceAll('/', '_')}`)
    await fs.writeFile(file, Buffer.from(await res.arrayBuffer()))
    return file
  }
  const run = async (hyperparameters: Record<string, unknown>) => {
    const job = await client.fineTuning.jobs.create({
      model: DEMO_MODEL_ID, training_file: training.id, seed: 3,
      method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 4, learning_rate_multiplier: 1, ...hyperparameters } as never } },
    })
    return waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 180_000)
  }

  let fullRate = NaN
  t.test('full fine-tuning, exported as Q4_0 and Q8_0', async (t) => {
    const done = await run({ adapter: 'full', gguf_type: ['Q4_0', 'Q8_0'] })
    t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'succeeded')
    t.match(done.method!.supervised!.hyperparameters, { adapter: 'full', gguf_type: ['Q4_0', 'Q8_0'] })
    const events = await allEvents(client, done.id)
    fullRate = (events.find((e) => e.message.startsWith('Training on'))?.data as { learning_rate: number }).learning_rate
    t.ok(events.some((e) => /^Exported the merged model \(safetensors\), GGUFs \(Q4_0, Q8_0\): \d+ files$/.test(e.message)), 'no adapter; both GGUFs')
    const names = await artifacts(done.fine_tuned_model!)
    t.notOk(names.some((n) => n.startsWith('adapter')), 'full fine-tuning has no adapter')
    t.ok(names.includes('model-q4_0.gguf') && names.includes('model-q8_0.gguf') && names.includes('model/model.safetensors'), names.join(', '))
    const weights = decodeSafetensors(new Uint8Array(await fs.readFile(await download(done.fine_tuned_model!, 'model/model.safetensors'))))
    t.ok(weights.tensors.has('model.embed_tokens.weight'), 'the trained model itself')
    await llamaCppGenerate(await download(done.fine_tuned_model!, 'model-q4_0.gguf'), [1, 2, 3], 2)
    t.pass('the Q4_0 GGUF loads and generates in llama.cpp')
  })

  t.test('LoRA with its shape from the request, exported as Q4_K_M', async (t) => {
    const done = await run({ adapter: 'lora', lora_r: 4, lora_alpha: 12, lora_dropout: 0, lora_target_modules: ['q_proj', 'v_proj'], gguf_type: 'Q4_K_M' })
    t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'succeeded')
    const names = await artifacts(done.fine_tuned_model!)
    t.ok(names.includes('model-q4_k_m.gguf') && !names.includes('model-f16.gguf'), names.join(', '))
    const plan = (await allEvents(client, done.id)).find((e) => e.message.startsWith('Training on'))
    t.equal((plan?.data as { learning_rate: number }).learning_rate, 10 * fullRate, `LoRA trains at 10× the full fine-tuning rate (${fullRate})`)
    const config = JSON.parse(await fs.readFile(await download(done.fine_tuned_model!, 'adapter/adapter_config.json'), 'utf8'))
    t.match(config, { peft_type: 'LORA', r: 4, lora_alpha: 12, lora_dropout: 0 })
    t.same([...config.target_modules].sort(), ['q_proj', 'v_proj'])
    const adapter = decodeSafetensors(new Uint8Array(await fs.readFile(await download(done.fine_tuned_model!, 'adapter/adapter_model.safetensors'))))
    const modules = new Set([...adapter.tensors.keys()].map((n) => /\.(\w+_proj)\.lora_/.exec(n)?.[1]))
    t.same([...modules].sort(), ['q_proj', 'v_proj'], 'only the requested projections are adapted')
    t.same(adapter.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')?.shape[0], 4, 'rank 4')
    await llamaCppGenerate(await download(done.fine_tuned_model!, 'model-q4_k_m.gguf'), [1, 2, 3], 2)
    t.pass('the Q4_K_M GGUF loads and generates in llama.cpp')
  })

  t.test('QLoRA on a 4-bit base: adapter, merged model and GGUF', async (t) => {
    const done = await run({ adapter: 'qlora', qlora_bits: 4, lora_r: 4, gguf_type: 'F16' })
    t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'succeeded')
    t.match(done.method!.supervised!.hyperparameters, { adapter: 'qlora', qlora_bits: 4 })
    const held = (await allEvents(client, done.id)).find((e) => e.message.startsWith('QLoRA: '))
    t.match(held?.data, { bits: 4, projections: Number, bytes: Number, f32_bytes: Number }, held?.message ?? 'a QLoRA event')
    const { bytes, f32_bytes: f32 } = held!.data as { bytes: number; f32_bytes: number }
    t.ok(bytes < f32 / 6, `the base's projections held in ${bytes} bytes, not ${f32}`)
    const names = await artifacts(done.fine_tuned_model!)
    t.ok(['adapter/adapter_model.safetensors', 'model/model.safetensors', 'model-f16.gguf'].every((n) => names.includes(n)), names.join(', '))
    await llamaCppGenerate(await download(done.fine_tuned_model!, 'model-f16.gguf'), [1, 2, 3], 2)
    t.pass('the GGUF loads and generates in llama.cpp')
  })

  t.test("LoRA targets the architecture does not have fail the job as bad input", async (t) => {
    const done = await run({ lora_target_modules: ['c_attn'] })
    t.equal(done.status, 'failed')
    t.match(done.error, { code: 'invalid_hyperparameters', message: /'c_attn' is not a projection of LlamaForCausalLM; its projections are q_proj/ })
  })
})

// The whole product loop with the real trainer: the official openai SDK uploads a chat dataset
// and creates a job on the generated demo model; the scheduler launches `node src/cli/trainer.ts`
// through the real local executor; the trainer trains LoRA on the wasm backend, reporting through
// the trainer protocol, checkpointing into the blob store and exporting its artifacts. Then the
// user-visible results are checked: events, checkpoints, the results CSV, the model list, and the
// artifacts themselves — the GGUF loads in llama.cpp and greedily generates exactly what the
// trainer's own forward pass generates from the merged model, and the PEFT adapter has PEFT's names.
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { learningRateFor } from '../../src/protocol/auto-hyperparameters.ts'
import { llamaCppGenerate } from '../../src/trainer/export/llama-cpp-logits.ts'
import { decodeSafetensors } from '../../src/trainer/io/safetensors.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { greedyGenerate } from '../../src/trainer/model/generate.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { TextTokenizer } from '../../src/trainer/tokenizer/text-tokenizer.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { assertSpec } from '../helpers/openai-spec.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { untar } from '../helpers/untar.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver', 'rocket', 'garden', 'window', 'planet', 'castle', 'bridge', 'meadow', 'harbor', 'violet', 'summit', 'lantern', 'falcon', 'pepper']
/** A fixed reply format: the assistant always answers "Word: <word>." */
const example = (word: string) => ({ messages: [{ role: 'user', content: `Repeat ${word}` }, { role: 'assistant', content: `Word: ${word}.` }] })

t.test('a job trains for real: events, checkpoints, results, model and artifacts', async (t) => {
  const started = Date.now()
  const ctx = await startRealTrainerApp(t)
  const { client } = ctx

  const training = await uploadDataset(client, WORDS.slice(0, 20).map(example), 'train.jsonl')
  const validation = await uploadDataset(client, WORDS.slice(20).map(example), 'valid.jsonl')
  const job = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID,
    training_file: training.id,
    validation_file: validation.id,
    suffix: 'words',
    seed: 7,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.25 } } },
  })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  const trainSeconds = (Date.now() - started) / 1000
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  t.equal(done.error, null)
  t.match(done.fine_tuned_model, /^ft:skillet-tiny-llama:[^:]+:words:[A-Za-z0-9]{8}$/)
  t.match(done.hyperparameters, { n_epochs: 2, batch_size: 4, learning_rate_multiplier: 0.25 })
  t.ok(done.trained_tokens && done.trained_tokens > 0, `trained_tokens ${done.trained_tokens}`)
  const model = done.fine_tuned_model!

  // Events, in OpenAI's wording, plus what the trainer adds.
  const events = await allEvents(client, job.id)
  const messages = events.map((e) => e.message)
  for (const expected of ['Fine-tuning job started', 'Checkpoint created at step 5', 'Checkpoint created at step 10', 'New fine-tuned model created', 'The job has successfully completed']) {
    t.ok(messages.includes(expected), `event "${expected}"`)
  }
  t.ok(messages.some((m) => /^Trainer attempt 1 started: trainer backend: wasm/.test(m)), 'the backend is reported')
  const plan = events.find((e) => e.message.startsWith('Training on 20 examples'))
  t.match(plan?.data, { examples: 20, n_epochs: 2, batch_size: 4, total_steps: 10, learning_rate: learningRateFor('lora', 0.25, { hiddenSize: 64 }) }, plan?.message ?? "the plan event")
  t.ok(messages.some((m) => /^Training at [\d,]+ tokens\/s: about \d+ seconds? remaining$/.test(m)), 'a measured speed and ETA')
  t.ok(messages.some((m) => /^Exported the LoRA adapter \(PEFT\), the merged model \(safetensors\), a GGUF \(F16\): \d+ files$/.test(m)), 'exports reported')
  const metrics = events.filter((e) => e.type === 'metrics')
  t.same(metrics.map((e) => (e.data as { step: number }).step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'one metrics event per step')
  t.match(metrics[0].message, /^Step 1\/10: training loss=\d+\.\d\d$/)
  for (const e of metrics) t.match(e.data, { total_steps: 10, train_loss: Number, train_mean_token_accuracy: Number })
  const validated = metrics.filter((e) => 'valid_loss' in (e.data as object)).map((e) => (e.data as { step: number }).step)
  t.same(validated, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'validation points during the run (10 steps: every step), more than the 2 epochs')
  const fullyValidated = metrics.filter((e) => 'full_valid_loss' in (e.data as object)).map((e) => (e.data as { step: number }).step)
  t.same(fullyValidated, [5, 10], 'the whole validation file at each checkpoint')
  for (const e of metrics.filter((m) => 'full_valid_loss' in (m.data as object))) t.match(e.data, { valid_loss: Number, valid_mean_token_accuracy: Number, full_valid_loss: Number, full_valid_mean_token_accuracy: Number })
  const bestEvent = events.find((e) => e.message.startsWith('Best checkpoint: step '))
  t.match(bestEvent?.data, { step: Number, metric: 'valid_loss', value: Number }, bestEvent?.message ?? 'the best checkpoint is named')
  const bestStep = (bestEvent?.data as { step: number }).step
  t.match((done as unknown as { evaluation: unknown }).evaluation, { best_checkpoint: { step_number: bestStep, metric: 'valid_loss' }, served_step: bestStep, stopped_early: null,
    forgetting: { texts: 24, source: 'skillet-general-texts', base_loss: Number, fine_tuned_loss: Number } }, "the job's evaluation")
  t.ok(events.some((e) => e.message.startsWith('Forgetting check on 24 general texts: loss ')), 'the forgetting check on the shipped texts')
  t.equal((bestEvent?.data as { served_step: number }).served_step, bestStep, 'the fine-tuned model is the best checkpoint')
  const loss = metrics.map((e) => (e.data as { train_loss: number }).train_loss)
  t.ok(loss.at(-1)! < loss[0], `training loss fell from ${loss[0].toFixed(3)} to ${loss.at(-1)!.toFixed(3)}`)

  // Checkpoints, the results CSV, the model list.
  const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data
  t.same(checkpoints.map((c) => c.step_number).sort((a, b) => a - b), [5, 10])
  t.ok(checkpoints.every((c) => c.fine_tuned_model_checkpoint.startsWith(`${model}:ckpt-step-`)), 'checkpoint models are named after the model')
  assertSpec(t, 'ListFineTuningJobCheckpointsResponse', { object: 'list', data: checkpoints, first_id: checkpoints[0]?.id ?? null, last_id: checkpoints.at(-1)?.id ?? null, has_more: false })
  for (const c of checkpoints) {
    t.same(Object.keys(c.metrics).sort(), ['eval_exact_match', 'eval_fuzzy_match', 'full_valid_loss', 'full_valid_mean_token_accuracy', 'step', 'train_loss', 'train_mean_token_accuracy', 'valid_loss', 'valid_mean_token_accuracy'],
      `checkpoint ${c.step_number}: every metric of the spec, filled, and the answer evaluation's default scores`)
  }
  const bestValue = (bestEvent?.data as { value: number }).value
  t.equal(bestValue, Math.min(...checkpoints.map((c) => c.metrics.valid_loss!)), 'the best checkpoint has the lowest valid_loss')
  const csv = (await (await client.files.content(done.result_files[0])).text()).trim().split('\n')
  t.equal(csv[0], 'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy')
  t.equal(csv.length, 11, 'a row per step')
  t.match(csv[10], /^10,[\d.e-]+,[\d.e-]+,[\d.e-]+,[\d.e-]+,[\d.e-]+,[\d.e-]+$/, 'the last row has validation metrics, the whole file\'s too')
  t.match(csv[3], /^3,[\d.e-]+,[\d.e-]+,[\d.e-]+,[\d.e-]+,,$/, 'a step between checkpoints has the sample\'s')
  const listed = []
  for await (const m of client.models.list()) listed.push(m.id)
  t.ok(listed.includes(model), 'GET /v1/models lists the fine-tuned model')

  // Artifacts: listed, downloadable, and what they claim to be.
  const headers = { authorization: `Bearer ${ctx.key}` }
  const artifactList = (await (await fetch(`${ctx.baseURL}/models/${model}/artifacts`, { headers })).json()) as { data: { name: string }[] }
  const names = artifactList.data.map((a) => a.name)
  for (const name of ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'adapter/tokenizer.json', 'adapter/tokenizer_config.json',
    'model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'model/tokenizer_config.json', 'model-f16.gguf', 'Modelfile']) {
    t.ok(names.includes(name), `artifact ${name}`)
  }
  const dir = await tmpDir(t, 'skillet-e2e-artifacts-')
  const download = async (name: string, from = model) => {
    const res = await fetch(`${ctx.baseURL}/models/${from}/artifacts/${name}`, { headers })
    t.equal(res.status, 200, `download ${name}`)
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true })
    await fs.writeFile(path.join(dir, name), Buffer.from(await res.arrayBuffer()))
    return res
  }

  for (const name of names.filter((n) => n.startsWith('adapter/'))) await download(name)
  const adapter = decodeSafetensors(new Uint8Array(await fs.readFile(path.join(dir, 'adapter/adapter_model.safetensors'))))
  const tensorNames = [...adapter.tensors.keys()]
  t.ok(tensorNames.includes('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'), 'PEFT name of q_proj.lora_A')
  t.ok(tensorNames.includes('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight'), 'PEFT name of down_proj.lora_B')
  t.same(tensorNames.filter((n) => !/^base_model\.model\.model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.lora_[AB]\.weight$/.test(n)), [], 'only PEFT LoRA names')
  t.same(JSON.parse(await fs.readFile(path.join(dir, 'adapter/adapter_config.json'), 'utf8')),
    { ...JSON.parse(await fs.readFile(path.join(dir, 'adapter/adapter_config.json'), 'utf8')), peft_type: 'LORA', r: 8, lora_alpha: 16, task_type: 'CAUSAL_LM', base_model_name_or_path: DEMO_MODEL_ID },
    "adapter_config.json names the base model by its public id, not a server path")
  const adapterTokenizer = new TextTokenizer(JSON.parse(await fs.readFile(path.join(dir, 'adapter/tokenizer.json'), 'utf8')), JSON.parse(await fs.readFile(path.join(dir, 'adapter/tokenizer_config.json'), 'utf8')), null)
  t.ok(adapterTokenizer.encode('Repeat harbor').length > 0, "the adapter folder's tokenizer loads")

  // The GGUF in llama.cpp generates what the trainer's forward pass generates from the merged model.
  for (const name of names.filter((n) => n.startsWith('model/'))) await download(name)
  const gguf = await download('model-f16.gguf')
  t.equal(gguf.headers.get('content-type'), 'application/octet-stream')
  const modelfile = await download('Modelfile')
  t.match(modelfile.headers.get('content-type'), /^text\/plain/)
  const modelfileText = await fs.readFile(path.join(dir, 'Modelfile'), 'utf8')
  t.match(modelfileText, /^FROM \.\/model-f16\.gguf$/m, 'the Modelfile loads the GGUF beside it')
  t.match(modelfileText, /^TEMPLATE """.*<\|im_start\|>assistant\n.*"""$/ms, 'with the chat template converted')
  t.match(modelfileText, /^PARAMETER stop "<\|im_end\|>"$/m, 'and the stop token')
  await selectBackend('wasm')
  const merged = await loadModelDir(path.join(dir, 'model'))
  const tokenizer = new TextTokenizer(merged.tokenizerJson, merged.tokenizerConfig, merged.chatTemplate)
  const prompt = tokenizer.encodeChat([{ role: 'user', content: 'Repeat harbor' }], { addGenerationPrompt: true })
  const weights = ModelWeights.fromHost(merged.config, merged.weights, { trainable: false })
  const [ours] = await greedyGenerate(weights, null, [prompt], { maxNewTokens: 8, eosId: tokenizer.eosTokenId })
  weights.dispose()
  const theirs = await llamaCppGenerate(path.join(dir, 'model-f16.gguf'), prompt, 8)
  // llama.cpp stops at the end-of-generation token without returning it; ours ends with it.
  const oursUntilEos = ours.at(-1) === tokenizer.eosTokenId ? ours.slice(0, -1) : ours
  t.same(theirs, oursUntilEos, `llama.cpp and the trainer both answer ${JSON.stringify(tokenizer.decode(ours))}`)

  // The whole folder as one .tar: the same bytes as each download.
  const tarRes = await fetch(`${ctx.baseURL}/models/${model}/artifacts/archive`, { headers })
  t.equal(tarRes.status, 200)
  const entries = await untar(Buffer.from(await tarRes.arrayBuffer()))
  const folder = model.replace(/:/g, '-')
  t.same([...entries.keys()].sort(), names.map((n) => `${folder}/${n}`).sort(), 'the archive holds every artifact')
  for (const name of names) {
    if (!(await fs.stat(path.join(dir, name)).catch(() => null))) await download(name)
    t.ok(entries.get(`${folder}/${name}`)!.equals(await fs.readFile(path.join(dir, name))), `archived ${name} is the download's bytes`)
  }

  // Each checkpoint is a model with its own adapter, GGUF and Modelfile; the last one's GGUF is the final model's.
  const ckpt5 = `${model}:ckpt-step-5`
  t.ok(listed.includes(ckpt5), 'GET /v1/models lists the checkpoint model')
  const ckptNames = ((await (await fetch(`${ctx.baseURL}/models/${ckpt5}/artifacts`, { headers })).json()) as { data: { name: string }[] }).data.map((a) => a.name)
  t.same(ckptNames, [...names.filter((n) => n.startsWith('adapter/')), 'model-f16.gguf', 'Modelfile'].sort(), 'a checkpoint model has the adapter folder, the GGUF and the Modelfile')
  const adapterOf = async (m: string) => Buffer.from(await (await fetch(`${ctx.baseURL}/models/${m}/artifacts/adapter/adapter_model.safetensors`, { headers })).arrayBuffer())
  const final = await fs.readFile(path.join(dir, 'adapter/adapter_model.safetensors'))
  t.ok((await adapterOf(`${model}:ckpt-step-${bestStep}`)).equals(final), `the best checkpoint's (step ${bestStep}) adapter is the final model's`)
  const other = await adapterOf(`${model}:ckpt-step-${bestStep === 5 ? 10 : 5}`)
  t.notOk(other.equals(final), 'the other checkpoint has its own weights')
  const ckptGguf = await fetch(`${ctx.baseURL}/models/${ckpt5}/artifacts/model-f16.gguf`, { headers })
  t.equal(Buffer.from(await ckptGguf.arrayBuffer()).subarray(0, 4).toString('latin1'), 'GGUF', "the checkpoint's GGUF")

  // A job continuing from the fine-tuned model starts where it ended: its first loss is near the parent's last.
  const more = await client.fineTuning.jobs.create({ model, training_file: training.id, seed: 7,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 4, learning_rate_multiplier: 5 } } } })
  const moreDone = await waitForJob(client, more.id, ['succeeded', 'failed', 'cancelled'], 120_000)
  t.equal(moreDone.status, 'succeeded', moreDone.error ? JSON.stringify(moreDone.error) : 'the continued job succeeded')
  const moreEvents = await allEvents(client, more.id)
  t.ok(moreEvents.some((e) => e.message === `Continuing from ${model}: its LoRA adapter (rank 8) on ${DEMO_MODEL_ID}`), 'the trainer says what it continues from')
  const moreFirst = (moreEvents.find((e) => e.type === 'metrics')?.data as { train_loss: number }).train_loss
  t.ok(moreFirst < (loss[0] + loss.at(-1)!) / 2, `continued job's first loss ${moreFirst.toFixed(3)} is near the parent's last ${loss.at(-1)!.toFixed(3)}, not its first ${loss[0].toFixed(3)}`)

  // A dry run on the same file: the service's estimate, next to what the trainer counted.
  const dry = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID, training_file: training.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 4 } } }, dry_run: true,
  } as never)
  const dryDone = await waitForJob(client, dry.id, ['succeeded', 'failed'], 30_000)
  const estimate = (await allEvents(client, dry.id)).find((e) => e.message.startsWith('Estimated '))
  t.equal((estimate?.data as { total_steps?: number }).total_steps, 10, `the dry run's step count is the trainer's: ${estimate?.message}`)
  t.equal(dryDone.fine_tuned_model, null, 'a dry run makes no model')
  const real = (plan?.data as { tokens_per_epoch: number }).tokens_per_epoch
  const guessed = (estimate?.data as { tokens_per_epoch: number }).tokens_per_epoch
  t.equal(guessed, real, `tokens per epoch: estimated ${guessed} (with the base model's tokenizer), counted by the trainer ${real}; job finished in ${trainSeconds.toFixed(1)} s`)
})

t.test('a base model the trainer cannot load fails the job with a clear error', async (t) => {
  const dir = await tmpDir(t, 'skillet-e2e-mamba-')
  await makeTinyModel({ architecture: 'llama', dir, hiddenSize: 32, numLayers: 1 })
  const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['MambaForCausalLM'] }))
  const { client } = await startRealTrainerApp(t, {}, { SKILLET_BASE_MODELS: `tiny-mamba=${dir}` })
  const file = await uploadDataset(client, WORDS.slice(0, 10).map(example))
  const job = await client.fineTuning.jobs.create({ model: 'tiny-mamba', training_file: file.id })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 60_000)
  t.equal(done.status, 'failed')
  t.equal(done.error?.code, 'invalid_base_model')
  t.match(done.error?.message, /^The base model tiny-mamba could not be loaded: unsupported model architecture MambaForCausalLM/)
})

t.test('a DPO job trains its adapter on preference pairs', async (t) => {
  const { client } = await startRealTrainerApp(t)
  const pairs = WORDS.slice(0, 10).map((w) => ({
    input: { messages: [{ role: 'user', content: `Repeat ${w}` }] },
    preferred_output: [{ role: 'assistant', content: `Word: ${w}.` }],
    non_preferred_output: [{ role: 'assistant', content: 'No.' }],
  }))
  const file = await uploadDataset(client, pairs, 'pairs.jsonl')
  const job = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID,
    training_file: file.id,
    method: { type: 'dpo', dpo: { hyperparameters: { n_epochs: 1, batch_size: 5, beta: 0.2 } } },
  })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 60_000)
  t.equal(done.status, 'succeeded', done.error ? JSON.stringify(done.error) : 'the job succeeded')
  const events = await allEvents(client, job.id)
  t.match(events.find((e) => e.message.startsWith('Training on 10 examples'))?.data, { total_steps: 2, batch_size: 5 })
  t.same(events.filter((e) => e.type === 'metrics').map((e) => (e.data as { step: number }).step), [1, 2])
  const first = events.find((e) => e.type === 'metrics')?.data as { train_loss: number }
  t.ok(Math.abs(first.train_loss - Math.LN2) < 1e-3, `DPO starts at ln 2 (policy = reference): ${first.train_loss}`)
})

// run.json, with the real trainer: a succeeded job stores its reproducibility record as an
// artifact (complete: every field filled, the hashes those of the real inputs), and a second job
// started with the same inputs on the same backend ends with bit-identical weights and the same
// record (but for the job id and time).
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { Value } from 'typebox/value'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { RunRecordSchema, type RunRecord } from '../../src/protocol/run-record.ts'
import { learningRateFor } from '../../src/protocol/auto-hyperparameters.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startRealTrainerApp } from '../helpers/real-trainer-app.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver', 'rocket', 'garden']
const example = (word: string) => ({ messages: [{ role: 'user', content: `Repeat ${word}` }, { role: 'assistant', content: `Word: ${word}.` }] })
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex')

t.test('run.json is complete, and the same inputs give the same weights', async (t) => {
  const ctx = await startRealTrainerApp(t)
  const { client } = ctx
  const headers = { authorization: `Bearer ${ctx.key}` }
  const training = await uploadDataset(client, WORDS.slice(0, 11).map(example), 'train.jsonl')
  const validation = await uploadDataset(client, WORDS.slice(11).map(example), 'valid.jsonl')
  // batch_size and learning_rate_multiplier left to 'auto': run.json says what they became (2 epochs keep the test short).
  const create = () => client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: training.id, validation_file: validation.id, seed: 11,
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2 } } } })
  const download = async (model: string, name: string) => {
    const res = await fetch(`${ctx.baseURL}/models/${model}/artifacts/${name}`, { headers })
    t.equal(res.status, 200, `${model} ${name}`)
    return { type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) }
  }

  const runs: { job: Awaited<ReturnType<typeof waitForJob>>; record: RunRecord; adapter: Buffer }[] = []
  for (const attempt of [1, 2]) {
    const job = await waitForJob(client, (await create()).id, ['succeeded', 'failed', 'cancelled'], 280_000)
    t.equal(job.status, 'succeeded', job.error ? JSON.stringify(job.error) : `job ${attempt} succeeded`)
    const names = ((await (await fetch(`${ctx.baseURL}/models/${job.fine_tuned_model}/artifacts`, { headers })).json()) as { data: { name: string }[] }).data.map((a) => a.name)
    t.ok(names.includes('run.json'), 'run.json is one of the artifacts')
    const runJson = await download(job.fine_tuned_model!, 'run.json')
    t.equal(runJson.type, 'application/json')
    const record = JSON.parse(runJson.bytes.toString('utf8')) as RunRecord
    t.same([...Value.Errors(RunRecordSchema, record)].map((e) => `${e.instancePath} ${e.message}`), [], 'run.json matches its schema')
    runs.push({ job, record, adapter: (await download(job.fine_tuned_model!, 'adapter/adapter_model.safetensors')).bytes })
    t.ok((await allEvents(client, job.id)).some((e) => e.message.startsWith('Recorded how the model was made in run.json')), 'an event says it was written')
  }

  const [{ job, record }] = runs
  t.equal(record.job_id, job.id)
  const pkg = JSON.parse(await fs.readFile(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
  t.equal(record.skillet.version, pkg.version)
  // From a git checkout its commit is recorded; elsewhere (a copied tree) null.
  const head = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd: path.resolve(import.meta.dirname, '../..') }).then((r) => r.stdout.trim(), () => null)
  t.equal(record.skillet.git_commit, head, `the git commit (${head})`)
  t.match(record.trainer, { backend: 'wasm', gpu: false, device: /^trainer backend: wasm on the CPU/ })

  // The hashes are those of the real inputs.
  const demo = ctx.config.jobs.baseModels[DEMO_MODEL_ID]
  if (demo?.kind !== 'dir') throw new Error('the demo model is a directory')
  t.same(record.base_model.weights_sha256, { 'model.safetensors': sha256(await fs.readFile(path.join(demo.path, 'model.safetensors'))) }, "the base model's weights")
  t.match(record.base_model, { id: DEMO_MODEL_ID, public_id: null, architecture: 'LlamaForCausalLM', parameters: Number })
  const content = async (id: string) => Buffer.from(await (await client.files.content(id)).arrayBuffer())
  t.same(record.data.training_file, { id: training.id, sha256: sha256(await content(training.id)), bytes: training.bytes })
  t.same(record.data.validation_file, { id: validation.id, sha256: sha256(await content(validation.id)), bytes: validation.bytes })
  t.match(record.data, { examples: 11, validation_examples: 3, tokens_per_epoch: Number, max_length: Number, truncated_examples: 0 })
  t.ok(record.tokenizer.tokenizer_sha256 && record.tokenizer.chat_template_sha256, 'tokenizer and chat template hashes')
  t.equal(record.initial_adapter, null)

  // 'auto' resolved: the record has the job's numbers, and the rate they came to.
  t.same({ n_epochs: record.hyperparameters.n_epochs, batch_size: record.hyperparameters.batch_size, learning_rate_multiplier: record.hyperparameters.learning_rate_multiplier }, job.hyperparameters)
  t.equal(record.hyperparameters.learning_rate, learningRateFor('lora', job.hyperparameters.learning_rate_multiplier as number, { hiddenSize: 64 }))
  t.equal(record.hyperparameters.beta, null)
  t.equal(record.method, 'lora')
  t.match(record.trainer_options, { method: 'lora', seed: 11, lora: { rank: 8, alpha: 16, dropout: 0.05, targetModules: Array }, warmupRatio: Number, maxGradNorm: Number })
  t.equal(record.seeds.seed, 11)
  t.same(record.gguf_types, ['F16'])

  // Same inputs, same backend: the same weights, the same record.
  t.ok(runs[1].adapter.equals(runs[0].adapter), 'the second job\'s adapter is byte-identical to the first\'s')
  const comparable = (r: RunRecord) => ({ ...r, job_id: null, created_at: null })
  t.same(comparable(runs[1].record), comparable(runs[0].record), 'the two records agree but for the job id and time')
})

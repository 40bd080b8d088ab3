// Remote engine mode: SKILLET_INFERENCE_URL points at an OpenAI-compatible engine — here a real
// one in a child process (test/helpers/loopback-engine-main.ts: llama.cpp through the embedded
// engine, plus vLLM's adapter-loading endpoint). Skillet authenticates and scopes the caller,
// maps ft: models to engine names (loading the adapter once, vLLM's way), forwards requests and
// streams, and keeps OpenAI's envelope for the engine's errors.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { fineTunedModels, modelArtifacts } from '../../src/db/schema/index.ts'
import { unixNow } from '../../src/lib/ids.ts'
import { ensureDemoModel } from '../../src/models/demo-model.ts'
import { createApiKey } from '../../src/services/projects.ts'
import { exportGguf } from '../../src/trainer/export/gguf.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { assertApiError, specErrors } from '../helpers/openai-spec.ts'
import { startTestApp, tmpDir } from '../helpers/test-app.ts'

const LOOPBACK = fileURLToPath(new URL('../helpers/loopback-engine-main.ts', import.meta.url))
const ask = [{ role: 'user' as const, content: 'Repeat the first of: the and you' }]

t.test('Skillet in front of a remote OpenAI-compatible engine (vLLM mode)', async (t) => {
  const root = await tmpDir(t, 'skillet-loopback-')
  await ensureDemoModel(path.join(root, 'demo'))
  await exportGguf(await loadModelDir(path.join(root, 'demo')), path.join(root, 'demo.gguf'), { dtype: 'F16', name: DEMO_MODEL_ID })
  const requestLog = path.join(root, 'requests.jsonl')
  const engineKey = 'engine-key-0123456789'
  await fs.writeFile(path.join(root, 'config.json'), JSON.stringify({ apiKey: engineKey, root, models: { [DEMO_MODEL_ID]: 'demo.gguf' }, loraBase: DEMO_MODEL_ID, requestLog }))
  const child = spawn(process.execPath, [LOOPBACK, path.join(root, 'config.json')], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => child.kill('SIGTERM'))
  const [line] = await new Promise<string[]>((resolve) => createInterface({ input: child.stdout! }).once('line', (l) => resolve([l])))
  const { port } = JSON.parse(line) as { port: number }

  const adapterDir = await tmpDir(t, 'skillet-adapters-')
  const ctx = await startTestApp(t, { env: { SKILLET_INFERENCE_URL: `http://127.0.0.1:${port}/v1`, SKILLET_INFERENCE_ENGINE: 'vllm', SKILLET_INFERENCE_API_KEY: engineKey, SKILLET_INFERENCE_ADAPTER_DIR: adapterDir, SKILLET_RATE_LIMIT_PER_MINUTE: '1000000' } })
  const engineRequests = () => (existsSync(requestLog) ? readFileSync(requestLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; body: Record<string, unknown> }) : [])

  await t.test('a base model: plain, streamed and completions, forwarded', async (t) => {
    const answer = await ctx.client.chat.completions.create({ model: DEMO_MODEL_ID, messages: ask, max_tokens: 5, temperature: 0 })
    t.same(specErrors('CreateChatCompletionResponse', answer), [])
    t.equal(answer.model, DEMO_MODEL_ID)
    t.match(answer.id, /^chatcmpl-/, "Skillet's own id")
    t.equal(answer.usage?.completion_tokens, 5, "the engine's usage")
    t.equal(answer.choices[0].finish_reason, 'length')
    const forwarded = engineRequests().at(-1)!
    t.match(forwarded, { path: '/v1/chat/completions', body: { model: DEMO_MODEL_ID, max_tokens: 5, stream: true } }, 'forwarded as a stream under the engine name')

    const stream = await ctx.client.chat.completions.create({ model: DEMO_MODEL_ID, messages: ask, max_tokens: 5, temperature: 0, stream: true, stream_options: { include_usage: true } })
    const chunks: ChatCompletionChunk[] = []
    for await (const c of stream) chunks.push(c)
    for (const c of chunks) t.same(specErrors('CreateChatCompletionStreamResponse', c), [])
    t.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), answer.choices[0].message.content, 'the same answer streamed')
    t.same(chunks.at(-1)!.usage, answer.usage)

    const completion = await ctx.client.completions.create({ model: DEMO_MODEL_ID, prompt: 'Word:', max_tokens: 3, temperature: 0 })
    t.same(specErrors('CreateCompletionResponse', completion), [])
    t.equal(completion.usage?.completion_tokens, 3)
  })

  await t.test("a fine-tuned model is a LoRA adapter, loaded once; another project's is a 404", async (t) => {
    const owner = await createApiKey(ctx.database.db, { project: `owner-${Date.now()}` })
    const id = `ft:${DEMO_MODEL_ID}:owner:remote:AbCd1234`
    const prefix = 'jobs/ftjob-remote/artifacts/'
    await ctx.blobs.put(`${prefix}adapter_config.json`, Buffer.from(JSON.stringify({ peft_type: 'LORA', base_model_name_or_path: DEMO_MODEL_ID, r: 8 })))
    await ctx.blobs.put(`${prefix}adapter_model.safetensors`, Buffer.from('not used by the loopback engine'))
    await ctx.database.db.insert(fineTunedModels).values({ id, projectId: owner.projectId, jobId: 'ftjob-remote', baseModel: DEMO_MODEL_ID, createdAt: unixNow() })
    await ctx.database.db.insert(modelArtifacts).values([
      { modelId: id, name: 'adapter_config.json', blobKey: `${prefix}adapter_config.json`, bytes: 1, createdAt: unixNow() },
      { modelId: id, name: 'adapter_model.safetensors', blobKey: `${prefix}adapter_model.safetensors`, bytes: 1, createdAt: unixNow() },
    ])
    const ownerClient = new OpenAI({ apiKey: owner.key, baseURL: ctx.baseURL, maxRetries: 0 })
    for (let i = 0; i < 2; i++) {
      const answer = await ownerClient.chat.completions.create({ model: id, messages: ask, max_tokens: 3, temperature: 0 })
      t.same(specErrors('CreateChatCompletionResponse', answer), [])
      t.equal(answer.model, id)
    }
    const loads = engineRequests().filter((r) => r.path === '/v1/load_lora_adapter')
    t.equal(loads.length, 1, 'the adapter is loaded once')
    t.equal(loads[0].body.lora_name, id)
    const lora = String(loads[0].body.lora_path)
    t.ok(lora.startsWith(adapterDir), 'from the shared adapter folder')
    t.same((await fs.readdir(lora)).sort(), ['adapter_config.json', 'adapter_model.safetensors'], 'holding the adapter files')
    t.equal(engineRequests().at(-1)!.body.model, id, 'requests name the adapter')

    const before = engineRequests().length
    await assertApiError(t, ctx.client.chat.completions.create({ model: id, messages: ask }), { status: 404, code: 'model_not_found' })
    await assertApiError(t, ctx.client.chat.completions.create({ model: 'nope', messages: ask }), { status: 404, code: 'model_not_found' })
    t.equal(engineRequests().length, before, 'unknown and foreign models never reach the engine')
  })

  await t.test("the engine's errors keep OpenAI's envelope; the front keeps serving", async (t) => {
    await assertApiError(t, ctx.client.chat.completions.create({ model: DEMO_MODEL_ID, messages: [{ role: 'user', content: 'word '.repeat(400) }] }), { status: 400, param: 'messages', code: 'context_length_exceeded' })
    const after = await ctx.client.chat.completions.create({ model: DEMO_MODEL_ID, messages: ask, max_tokens: 2, temperature: 0 })
    t.equal(after.choices[0].finish_reason, 'length')
  })
})

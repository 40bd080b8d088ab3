// The embedded engine's limits and tenancy: a full queue answers 429 with retry-after in OpenAI's
// envelope, a client that disconnects mid-stream stops its generation and frees the slot, another
// project's model is a 404 and a model without a GGUF a 400 — and the server keeps serving.
import path from 'node:path'
import t from 'tap'
import OpenAI from 'openai'
import { fineTunedModels, modelArtifacts } from '../../src/db/schema/index.ts'
import type { EmbeddedEngine } from '../../src/inference/embedded-engine.ts'
import { unixNow } from '../../src/lib/ids.ts'
import { createApiKey } from '../../src/services/projects.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { post, startInferenceApp } from '../helpers/inference-test-app.ts'
import { assertApiError, specErrors } from '../helpers/openai-spec.ts'
import { tmpDir } from '../helpers/test-app.ts'

const MODEL = 'long-tiny'
const ask = [{ role: 'user' as const, content: 'Say something long' }]

t.test('queue, disconnect and tenancy', async (t) => {
  // A tiny model with a long context, so one answer can run for thousands of tokens.
  const dir = path.join(await tmpDir(t), MODEL)
  await makeTinyModel({ architecture: 'llama', dir, seed: 3, maxPositions: 8192 })
  const ctx = await startInferenceApp(t, { SKILLET_BASE_MODELS: `${MODEL}=${dir}`, SKILLET_INFERENCE_PARALLEL: '1', SKILLET_INFERENCE_MAX_QUEUE: '1', SKILLET_INFERENCE_CONTEXT_SIZE: '8192' })
  const engine = ctx.services.inference.engine as EmbeddedEngine

  await t.test('past the queue: 429 with retry-after, in the envelope', async (t) => {
    // The model is not loaded yet: all four requests wait for the one load, then meet the queue together.
    const responses = await Promise.all([0, 1, 2, 3].map(() => post(ctx, '/chat/completions', { model: MODEL, messages: ask, max_tokens: 64, temperature: 0 })))
    const statuses = responses.map((r) => r.status).sort()
    t.same(statuses, [200, 200, 429, 429], 'one generates, one waits, two are refused')
    for (const r of responses.filter((r) => r.status === 429)) {
      t.equal(r.headers.get('retry-after'), '1')
      const body = await r.json()
      t.same(specErrors('Error', body.error), [])
      t.match(body, { error: { type: 'requests', code: 'rate_limit_exceeded' } })
    }
    for (const r of responses.filter((r) => r.status === 200)) t.same(specErrors('CreateChatCompletionResponse', await r.json()), [])
  })

  await t.test('a client that disconnects mid-stream stops the generation and frees the slot', async (t) => {
    const before = engine.generatedTokens
    const abort = new AbortController()
    const res = await post(ctx, '/chat/completions', { model: MODEL, messages: ask, max_tokens: 6000, temperature: 1, seed: 1, stream: true }, { signal: abort.signal })
    t.equal(res.status, 200)
    const reader = res.body!.getReader()
    await reader.read() // the first chunk arrived: generation is under way
    abort.abort()
    let stats = engine.pool.stats()
    for (let i = 0; i < 200 && stats.some((s) => s.active > 0); i++) {
      await new Promise((r) => setTimeout(r, 25))
      stats = engine.pool.stats()
    }
    t.same(stats.map((s) => s.active), [0], 'the slot is free')
    const made = engine.generatedTokens - before
    t.ok(made < 3000, `generation stopped early: ${made} of 6000 tokens`)
    const next = await ctx.client.chat.completions.create({ model: MODEL, messages: ask, max_tokens: 4, temperature: 0 })
    t.equal(next.choices[0].finish_reason, 'length', 'the next request is served')
  })

  await t.test("another project's fine-tuned model is a 404; one without a GGUF is a 400", async (t) => {
    const [gguf] = await ctx.blobs.list('inference/base-gguf/')
    t.ok(gguf, 'the base model was converted to a GGUF once, into the blob store')
    const owner = await createApiKey(ctx.database.db, { project: `owner-${Date.now()}` })
    const served = `ft:${MODEL}:owner:served:AbCd1234`
    const bare = `ft:${MODEL}:owner:bare:AbCd1234`
    await ctx.database.db.insert(fineTunedModels).values([
      { id: served, projectId: owner.projectId, jobId: 'ftjob-test-served', baseModel: MODEL, createdAt: unixNow() },
      { id: bare, projectId: owner.projectId, jobId: 'ftjob-test-bare', baseModel: MODEL, createdAt: unixNow() },
    ])
    await ctx.database.db.insert(modelArtifacts).values({ modelId: served, name: 'model-f16.gguf', blobKey: gguf.key, bytes: gguf.bytes, createdAt: unixNow() })
    const ownerClient = new OpenAI({ apiKey: owner.key, baseURL: ctx.baseURL, maxRetries: 0 })

    const mine = await ownerClient.chat.completions.create({ model: served, messages: ask, max_tokens: 3, temperature: 0 })
    t.same(specErrors('CreateChatCompletionResponse', mine), [])
    t.equal(mine.model, served, 'the fine-tuned model answers its owner')
    await assertApiError(t, ctx.client.chat.completions.create({ model: served, messages: ask }), { status: 404, code: 'model_not_found', param: 'model' })
    await assertApiError(t, ctx.client.completions.create({ model: served, prompt: 'x' }), { status: 404, code: 'model_not_found' })
    await assertApiError(t, ownerClient.chat.completions.create({ model: bare, messages: ask }), { status: 400, code: 'model_not_ready', param: 'model' })
    const still = await ctx.client.chat.completions.create({ model: MODEL, messages: ask, max_tokens: 2, temperature: 0 })
    t.equal(still.choices[0].finish_reason, 'length', 'still serving')
  })
})

// /v1/models: base models, fine-tuned and checkpoint models, artifacts, deletion, tenancy; and the
// one-time fetch of a Hub repo into the blob store, against a loopback fake Hub.
import t from 'tap'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { chatExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startFakeHub } from '../helpers/fake-hub.ts'
import { untar } from '../helpers/untar.ts'
import { resolveBaseModel } from '../../src/models/base-models.ts'
import { parseBaseModels } from '../../src/config/index.ts'

t.test('models API', async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const file = await uploadDataset(client, Array.from({ length: 10 }, (_, i) => chatExample(i)))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id, suffix: 'm1' })
  const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
  const modelId = done.fine_tuned_model!
  t.ok(modelId)

  t.test('list and retrieve', async (t) => {
    const raw = await (await fetch(`${ctx.baseURL}/models`, { headers: { authorization: `Bearer ${ctx.key}` } })).json()
    assertSpec(t, 'ListModelsResponse', raw)
    const ids = raw.data.map((m: { id: string }) => m.id)
    t.ok(ids.includes(TEST_BASE_MODEL) && ids.includes('org/other-base'), 'base models')
    t.ok(ids.includes(modelId), 'the fine-tuned model')
    t.ok(ids.includes(`${modelId}:ckpt-step-6`), 'its checkpoint models')
    const tuned = await client.models.retrieve(modelId)
    assertSpec(t, 'Model', tuned)
    t.match(tuned, { id: modelId, object: 'model', owned_by: done.organization_id })
    const base = await client.models.retrieve('org/other-base')
    t.match(base, { id: 'org/other-base', owned_by: 'skillet' })
    const ckpt = await client.models.retrieve(`${modelId}:ckpt-step-4`)
    t.equal(ckpt.id, `${modelId}:ckpt-step-4`)
    await assertApiError(t, client.models.retrieve('nope'), { status: 404, code: 'model_not_found' })
  })

  t.test('artifacts are listed and streamed', async (t) => {
    const headers = { authorization: `Bearer ${ctx.key}` }
    const list = await (await fetch(`${ctx.baseURL}/models/${encodeURIComponent(modelId)}/artifacts`, { headers })).json()
    t.same(list.data.map((a: { name: string }) => a.name), ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'model.gguf'])
    t.match(list.data[0], { name: 'adapter/adapter_config.json', content_type: 'application/json' })
    t.match(list.data[2], { object: 'model.artifact', name: 'model.gguf', bytes: `GGUF of ${job.id}`.length, content_type: 'application/octet-stream' })
    const res = await fetch(`${ctx.baseURL}/models/${modelId}/artifacts/model.gguf`, { headers })
    t.equal(res.status, 200)
    t.equal(res.headers.get('content-disposition'), 'attachment; filename="model.gguf"')
    t.equal(await res.text(), `GGUF of ${job.id}`)
    const inFolder = await fetch(`${ctx.baseURL}/models/${modelId}/artifacts/adapter/adapter_model.safetensors`, { headers })
    t.equal(inFolder.status, 200, 'a name with a folder')
    t.equal(inFolder.headers.get('content-disposition'), 'attachment; filename="adapter_model.safetensors"')
    t.equal(await inFolder.text(), `adapter weights of ${job.id}`)
    const missing = await fetch(`${ctx.baseURL}/models/${modelId}/artifacts/nope.bin`, { headers })
    t.equal(missing.status, 404)
  })

  t.test('the whole model as one .tar', async (t) => {
    const headers = { authorization: `Bearer ${ctx.key}` }
    const folder = modelId.replace(/:/g, '-')
    for (const [model, gguf] of [[modelId, `GGUF of ${job.id}`], [`${modelId}:ckpt-step-4`, `GGUF of ${job.id} at step 4`]]) {
      const res = await fetch(`${ctx.baseURL}/models/${model}/artifacts/archive`, { headers })
      t.equal(res.status, 200)
      t.equal(res.headers.get('content-type'), 'application/x-tar')
      const name = model.replace(/:/g, '-')
      t.equal(res.headers.get('content-disposition'), `attachment; filename="${name}.tar"`)
      const files = await untar(Buffer.from(await res.arrayBuffer()))
      t.same([...files.keys()].sort(), ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'model.gguf'].map((f) => `${name}/${f}`), 'every artifact, in the model folder')
      t.equal(files.get(`${name}/model.gguf`)?.toString(), gguf)
      for (const [entry, bytes] of files) {
        const one = await fetch(`${ctx.baseURL}/models/${model}/artifacts/${entry.slice(name.length + 1)}`, { headers })
        t.ok(Buffer.from(await one.arrayBuffer()).equals(bytes), `${entry} is the artifact's bytes`)
      }
    }
    t.ok(folder.startsWith('ft-'))
    const unknown = await fetch(`${ctx.baseURL}/models/ft:nope/artifacts/archive`, { headers })
    t.equal(unknown.status, 404)
    assertSpec(t, 'Error', (await unknown.json()).error)
  })

  t.test('checkpoint models have their own artifacts', async (t) => {
    const headers = { authorization: `Bearer ${ctx.key}` }
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data
    t.same(checkpoints.map((c) => c.fine_tuned_model_checkpoint), [6, 4, 2].map((n) => `${modelId}:ckpt-step-${n}`), 'named as servable models')
    const ckpt = `${modelId}:ckpt-step-4`
    const list = await (await fetch(`${ctx.baseURL}/models/${ckpt}/artifacts`, { headers })).json()
    t.same(list.data.map((a: { name: string }) => a.name), ['adapter/adapter_config.json', 'adapter/adapter_model.safetensors', 'model.gguf'])
    const res = await fetch(`${ctx.baseURL}/models/${ckpt}/artifacts/model.gguf`, { headers })
    t.equal(await res.text(), `GGUF of ${job.id} at step 4`)
    const keys = (await ctx.blobs.list(`jobs/${done.organization_id}/${job.id}/checkpoints/`)).map((b) => b.key)
    t.ok(keys.includes(`jobs/${done.organization_id}/${job.id}/checkpoints/step-4/artifacts/model.gguf`), 'stored beside the checkpoint')
    await assertApiError(t, client.models.delete(ckpt), { status: 400, code: 'model_not_deletable' })
  })

  t.test('a job continues from a fine-tuned or a checkpoint model', async (t) => {
    const prefix = `jobs/${done.organization_id}/${job.id}/`
    for (const [from, adapterAt] of [[modelId, `${prefix}artifacts/adapter/`], [`${modelId}:ckpt-step-4`, `${prefix}checkpoints/step-4/artifacts/adapter/`]]) {
      const next = await client.fineTuning.jobs.create({ model: from, training_file: file.id, suffix: 'more' })
      assertSpec(t, 'FineTuningJob', next)
      t.equal(next.model, from, "the job's model is the model it continues from")
      const finished = await waitForJob(client, next.id, ['succeeded', 'failed'])
      t.equal(finished.status, 'succeeded')
      t.match(finished.fine_tuned_model, new RegExp(`^ft:${TEST_BASE_MODEL}:[^:]+:more:[A-Za-z0-9]{8}$`), 'the new model is named after the base')
      const events = (await client.fineTuning.jobs.listEvents(next.id, { limit: 100 })).data
      t.same(events.find((e) => e.message === `Fake trainer continues from ${from}`)?.data,
        { model: from, configKey: `${adapterAt}adapter_config.json`, weightsKey: `${adapterAt}adapter_model.safetensors`, base: TEST_BASE_MODEL },
        `the trainer starts from ${from}'s adapter on the base model`)
    }
    await assertApiError(t, client.fineTuning.jobs.create({ model: 'ft:nope:x::y', training_file: file.id }), { status: 400, param: 'model', code: 'model_not_found' })
    await assertApiError(t, client.fineTuning.jobs.create({ model: modelId, training_file: file.id, method: { type: 'dpo' } }), { status: 400, param: 'model' })
    // Continuing keeps the model's LoRA adapter as it is: another shape or full fine-tuning would be silently ignored.
    const continuing = (hyperparameters: Record<string, unknown>) =>
      client.fineTuning.jobs.create({ model: modelId, training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: hyperparameters as never } } })
    await assertApiError(t, continuing({ adapter: 'full' }), { status: 400, param: 'method.supervised.hyperparameters.adapter' })
    await assertApiError(t, continuing({ lora_r: 4 }), { status: 400, param: 'method.supervised.hyperparameters.lora_r' })
    await assertApiError(t, continuing({ lora_target_modules: ['q_proj'] }), { status: 400, param: 'method.supervised.hyperparameters.lora_target_modules' })
    const other = await ctx.clientFor('beta')
    const theirs = await uploadDataset(other, Array.from({ length: 10 }, (_, i) => chatExample(i)))
    await assertApiError(t, other.fineTuning.jobs.create({ model: modelId, training_file: theirs.id }), { status: 400, param: 'model', code: 'model_not_found' })
  })

  t.test('tenancy', async (t) => {
    const other = await ctx.clientFor('beta')
    await assertApiError(t, other.models.retrieve(modelId), { status: 404 })
    await assertApiError(t, other.models.delete(modelId), { status: 404 })
    const res = await fetch(`${ctx.baseURL}/models/${modelId}/artifacts/model.gguf`, { headers: { authorization: `Bearer ${(other as unknown as { apiKey: string }).apiKey}` } })
    t.equal(res.status, 404)
    const ids = (await other.models.list()).data.map((m) => m.id)
    t.notOk(ids.includes(modelId))
  })

  t.test('delete a fine-tuned model and its artifacts; base models cannot be deleted', async (t) => {
    await assertApiError(t, client.models.delete(TEST_BASE_MODEL), { status: 400, param: 'model' })
    const deleted = await client.models.delete(modelId)
    assertSpec(t, 'DeleteModelResponse', deleted)
    t.same(deleted, { id: modelId, object: 'model', deleted: true })
    await assertApiError(t, client.models.retrieve(modelId), { status: 404 })
    t.same(await ctx.blobs.list(`jobs/${done.organization_id}/${job.id}/artifacts/`), [], 'artifact blobs deleted')
    const left = (await ctx.blobs.list(`jobs/${done.organization_id}/${job.id}/checkpoints/`)).map((b) => b.key)
    t.same(left.filter((k) => k.includes('/artifacts/')), [], "the checkpoint models' artifact blobs deleted")
    await assertApiError(t, client.models.retrieve(`${modelId}:ckpt-step-4`), { status: 404, code: 'model_not_found' })
    const ids = (await client.models.list()).data.map((m) => m.id)
    t.notOk(ids.some((id) => id.startsWith(modelId)), 'neither the model nor its checkpoints are listed')
    const list = await fetch(`${ctx.baseURL}/models/${modelId}:ckpt-step-4/artifacts`, { headers: { authorization: `Bearer ${ctx.key}` } })
    t.equal(list.status, 404)
  })
})

t.test('a Hub repo is fetched once into the blob store', async (t) => {
  const hub = await startFakeHub({
    'acme/tiny': { sha: 'abc123', files: { 'config.json': '{"model_type":"llama"}', 'model.safetensors': 'WEIGHTS', 'tokenizer.json': '{}', 'README.md': 'skip me', 'pytorch_model.bin': 'skip me too' } },
  })
  t.teardown(() => hub.close())
  const ctx = await startJobsApp(t)
  const problems: string[] = []
  const baseModels = parseBaseModels('tiny=hf:acme/tiny,missing=hf:acme/missing@v1', problems)
  t.same(problems, [])
  const deps = { db: ctx.database.db, blobs: ctx.blobs, baseModels, hubEndpoint: hub.endpoint }
  const first = await resolveBaseModel(deps, 'tiny')
  t.same(first, { id: 'tiny', publicId: 'acme/tiny', source: { kind: 'blob', prefix: 'models/hub/acme/tiny/abc123/' } })
  const stored = (await ctx.blobs.list('models/hub/acme/tiny/')).map((b) => b.key)
  t.same(stored, ['models/hub/acme/tiny/abc123/config.json', 'models/hub/acme/tiny/abc123/model.safetensors', 'models/hub/acme/tiny/abc123/tokenizer.json'])
  const weights = await ctx.blobs.get('models/hub/acme/tiny/abc123/model.safetensors')
  let text = ''
  for await (const chunk of weights) text += chunk
  t.equal(text, 'WEIGHTS', 'followed the CDN redirect')
  const requests = hub.requests.length
  t.same(await resolveBaseModel(deps, 'tiny'), first)
  t.equal(hub.requests.length, requests, 'the second use does not touch the Hub')
  await t.rejects(resolveBaseModel(deps, 'missing'), /The Hugging Face Hub answered 404 for acme\/missing@v1/)
})

t.test('SKILLET_BASE_MODELS forms', async (t) => {
  const problems: string[] = []
  t.same(parseBaseModels('a=/models/a,b=blob:models/b,c=hf:org/c@rev', problems), {
    a: { kind: 'dir', path: '/models/a' },
    b: { kind: 'blob', prefix: 'models/b/' },
    c: { kind: 'hub', repo: 'org/c', revision: 'rev' },
  })
  t.same(parseBaseModels('{"x/y": "hf:org/y"}', problems), { 'x/y': { kind: 'hub', repo: 'org/y', revision: 'main' } })
  t.same(problems, [])
  parseBaseModels('bad id=/x,noequals', problems)
  t.equal(problems.length, 2)
})

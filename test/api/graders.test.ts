// POST /v1/fine_tuning/alpha/graders/run and /validate through the openai SDK: each grader type,
// template strings, multi formulas, the refusals (python, cosine, model graders without an
// endpoint), and model graders against a loopback OpenAI-compatible server. Bodies validate
// against OpenAI's spec.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { startTestApp } from '../helpers/test-app.ts'

t.test('graders API', async (t) => {
  // A loopback "model" for score_model / label_model: answers the schema'd JSON it is asked for.
  const seen: { model: string; messages: { role: string; content: string }[]; response_format: { json_schema: { schema: { properties: { result: { type: string } } } } } }[] = []
  const model = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const request = JSON.parse(body)
      seen.push(request)
      const isScore = request.response_format.json_schema.schema.properties.result.type === 'number'
      const content = JSON.stringify({ result: isScore ? 0.75 : 'good' })
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: request.model, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }], usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } }))
    })
  })
  await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve))
  t.teardown(() => model.close())
  const modelUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`
  const { client } = await startTestApp(t, { env: { SKILLET_GRADER_MODEL_URL: modelUrl } })
  const run = async (grader: Record<string, unknown>, model_sample: string, item?: Record<string, unknown>) => {
    const r = await client.fineTuning.alpha.graders.run({ grader, model_sample, ...(item ? { item } : {}) } as never)
    assertSpec(t, 'RunGraderResponse', r)
    return r
  }

  t.test('string_check with template strings', async (t) => {
    const grader = { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{ item.answer }}', operation: 'eq' }
    t.equal((await run(grader, 'Paris', { answer: 'Paris' })).reward, 1)
    const wrong = await run(grader, 'Lyon', { answer: 'Paris' })
    t.equal(wrong.reward, 0)
    t.match(wrong.metadata, { name: 'exact', type: 'string_check', scores: { exact: 0 }, token_usage: null, sampled_model_name: null })
    t.equal(wrong.metadata.errors.invalid_variable_error, false)
    const missing = await run(grader, 'Paris', {})
    t.equal(missing.metadata.errors.invalid_variable_error, true, 'a variable that names nothing is reported')
    const json = await run({ ...grader, input: '{{sample.output_json.city}}', operation: 'ilike' }, '{"city": "PARIS"}', { answer: 'paris' })
    t.equal(json.reward, 1, 'sample.output_json reads a JSON answer')
    const validated = await client.fineTuning.alpha.graders.validate({ grader } as never)
    assertSpec(t, 'ValidateGraderResponse', validated)
    t.same(validated.grader, grader)
  })

  t.test('text_similarity', async (t) => {
    const r = await run({ type: 'text_similarity', name: 'sim', input: '{{sample.output_text}}', reference: '{{item.answer}}', evaluation_metric: 'rouge_l' }, 'Paris is the capital of France', { answer: 'The capital of France is Paris' })
    t.ok(Math.abs(r.reward - 4 / 6) < 1e-9, `rouge_l ${r.reward}`)
  })

  t.test('multi: a formula over sub-graders', async (t) => {
    const graders = {
      exact: { type: 'string_check', name: 'exact', input: '{{sample.output_text}}', reference: '{{item.answer}}', operation: 'eq' },
      sim: { type: 'text_similarity', name: 'sim', input: '{{sample.output_text}}', reference: '{{item.answer}}', evaluation_metric: 'fuzzy_match' },
    }
    const r = await client.fineTuning.alpha.graders.run({ grader: { type: 'multi', name: 'mix', graders, calculate_output: '0.5 * exact + 0.5 * sim' }, model_sample: 'kitten', item: { answer: 'sitting' } } as never)
    t.ok(Math.abs(r.reward - 0.5 * 0.6153846153846154) < 1e-9, `reward ${r.reward}`)
    t.match(r.sub_rewards, { exact: 0, sim: Number })
    const single = await run({ type: 'multi', name: 'one', graders: graders.exact, calculate_output: 'exact * 2' }, 'x', { answer: 'x' })
    t.equal(single.reward, 2, "the spec's single-grader form")
    await assertApiError(t, client.fineTuning.alpha.graders.run({ grader: { type: 'multi', name: 'bad', graders, calculate_output: 'exact + nope' }, model_sample: 'x' } as never), { status: 400, param: 'grader.calculate_output' })
    await assertApiError(t, client.fineTuning.alpha.graders.validate({ grader: { type: 'multi', name: 'bad', graders, calculate_output: 'exact +' } } as never), { status: 400, param: 'grader.calculate_output' })
    await assertApiError(t, client.fineTuning.alpha.graders.run({ grader: { type: 'multi', name: 'js', graders, calculate_output: 'constructor.constructor("return 1")()' }, model_sample: 'x' } as never), { status: 400 })
  })

  t.test('refusals', async (t) => {
    await assertApiError(t, client.fineTuning.alpha.graders.run({ grader: { type: 'python', name: 'py', source: 'def grade(s, i): return 1' }, model_sample: 'x' } as never), { status: 400, param: 'grader.type', code: 'unsupported_grader' })
    await assertApiError(t, client.fineTuning.alpha.graders.validate({ grader: { type: 'text_similarity', name: 'c', input: 'a', reference: 'b', evaluation_metric: 'cosine' } } as never), { status: 400, param: 'grader.evaluation_metric', code: 'unsupported_grader' })
    await assertApiError(t, client.fineTuning.alpha.graders.validate({ grader: { type: 'string_check', name: 's', input: 'a', reference: 'b', operation: 'contains' } } as never), { status: 400, param: 'grader.operation' })
    await assertApiError(t, client.fineTuning.alpha.graders.validate({ grader: { type: 'wizard', name: 'w' } } as never), { status: 400, param: 'grader.type' })
    await assertApiError(t, client.fineTuning.alpha.graders.run({ grader: { type: 'string_check', name: 's', input: 'a', reference: 'b', operation: 'eq' } } as never), { status: 400, param: 'model_sample' })
  })

  t.test('score_model and label_model call the configured endpoint', async (t) => {
    const score = await run({ type: 'score_model', name: 'judge', model: 'judge-1', input: [{ role: 'user', content: 'Rate {{sample.output_text}} against {{item.answer}}' }], range: [0, 1] }, 'Paris', { answer: 'Paris' })
    t.equal(score.reward, 0.75)
    t.match(score.metadata, { sampled_model_name: 'judge-1', token_usage: 13 })
    t.same(score.model_grader_token_usage_per_model, { 'judge-1': { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 } })
    t.equal(seen.at(-1)!.messages[0].content, 'Rate Paris against Paris', 'the prompt is rendered')
    const label = await run({ type: 'label_model', name: 'lab', model: 'judge-1', input: [{ role: 'user', content: '{{sample.output_text}}' }], labels: ['good', 'bad'], passing_labels: ['good'] }, 'fine')
    t.equal(label.reward, 1)
    await assertApiError(t, client.fineTuning.alpha.graders.validate({ grader: { type: 'label_model', name: 'lab', model: 'm', input: [{ role: 'user', content: 'x' }], labels: ['good'], passing_labels: ['great'] } } as never), { status: 400, param: 'grader.passing_labels' })
    const out = await run({ type: 'score_model', name: 'judge', model: 'judge-1', input: [{ role: 'user', content: 'x' }], range: [0, 0.5] }, 'Paris')
    t.equal(out.reward, 0)
    t.equal(out.metadata.errors.model_grader_parse_error, true, 'a score outside the range is a parse error')
  })
})

t.test('model graders without an endpoint are refused', async (t) => {
  const { client } = await startTestApp(t)
  await assertApiError(t, client.fineTuning.alpha.graders.validate({ grader: { type: 'score_model', name: 'j', model: 'm', input: [{ role: 'user', content: 'x' }] } } as never), { status: 400, param: 'grader.type', code: 'unsupported_grader' })
})

// The answer evaluation's parts: which prompt and reference each validation row gives, the
// answer-length bound, the scores (pure), and the greedy answers on a real tiny model — batched by
// prompt length, cut at a stop token, decoded — equal to greedyGenerate's one prompt at a time.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { answerStopIds, answerTokenLimit, evaluateAnswers, scoreAnswers } from '../../src/trainer/eval/answer-eval.ts'
import { answerExamples, referencesAreJson } from '../../src/trainer/eval/answer-examples.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { greedyGenerate } from '../../src/trainer/model/generate.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { TextTokenizer } from '../../src/trainer/tokenizer/text-tokenizer.ts'

t.test('answer evaluation', async (t) => {
  await selectBackend('wasm')
  const dir = await mkdtemp(join(tmpdir(), 'skillet-answer-eval-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await makeTinyModel({ architecture: 'llama', dir, seed: 0, initStd: 0.1 })
  const model = await loadModelDir(dir)
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)

  t.test('prompts and references from each format', async (t) => {
    const user = { role: 'user', content: 'Repeat the first of: the and you' }
    const rows = [
      { messages: [{ role: 'system', content: 'Be brief.' }, user, { role: 'assistant', content: 'Word: the.' }] },
      { messages: [user, { role: 'assistant', content: [{ type: 'text', text: 'Word: ' }, { type: 'text', text: 'the.' }] }] },
      { messages: [user, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }] }, // no text: left out
      { prompt: 'Colour of the sky:', completion: ' blue' },
      { input: { messages: [user] }, preferred_output: [{ role: 'assistant', content: 'Word: the.' }], non_preferred_output: [{ role: 'assistant', content: 'No.' }] },
    ]
    const examples = answerExamples(tokenizer, rows, 100)
    t.equal(examples.length, 4, 'the row whose answer is a tool call only is left out')
    t.same(examples[0].prompt, tokenizer.encodeChat([rows[0].messages![0], user], { addGenerationPrompt: true }), 'chat: the conversation before the last assistant message, with the generation prompt')
    t.same(examples.map((e) => e.reference), ['Word: the.', 'Word: the.', ' blue', 'Word: the.'], 'the references: text parts joined, the completion, the preferred output')
    t.same(examples[2].prompt, tokenizer.encode('Colour of the sky:', { addSpecialTokens: true }), "prompt/completion: the prompt with the model's special tokens, as training encodes it")
    t.same(examples[3].prompt, tokenizer.encodeChat([user], { addGenerationPrompt: true }), "DPO: the pair's input")
    t.equal(examples[0].referenceTokens, tokenizer.encode('Word: the.', { addSpecialTokens: false }).length)
    t.equal(answerExamples(tokenizer, rows, 2).length, 2, 'the first max examples')
    t.notOk(referencesAreJson(examples), 'text references are not JSON')
    t.ok(referencesAreJson(answerExamples(tokenizer, [{ prompt: 'a', completion: '{"x": 1}' }, { prompt: 'b', completion: '[1, 2]' }], 10)), 'objects and arrays are')
    t.notOk(referencesAreJson(answerExamples(tokenizer, [{ prompt: 'a', completion: '{"x": 1}' }, { prompt: 'b', completion: '42' }], 10)), 'a bare number is not')
  })

  t.test('how long an answer may run', async (t) => {
    const e = { prompt: new Array<number>(100).fill(1), reference: 'x', referenceTokens: 5 }
    t.equal(answerTokenLimit(e, 64, 4096), 15, 'the reference · 1.25 + 8')
    t.equal(answerTokenLimit(e, 10, 4096), 10, 'eval_max_new_tokens')
    t.equal(answerTokenLimit(e, 64, 110), 10, "the model's context")
    t.equal(answerTokenLimit({ ...e, referenceTokens: 100 }, 64, 4096), 64, 'eval_max_new_tokens for a long reference')
    t.equal(answerTokenLimit(e, 64, 100), 0, 'no room: the example is left out')
  })

  t.test('scores: the mean per grader, surrounding whitespace ignored', async (t) => {
    const pairs = [{ answer: ' Word: the.\n', reference: 'Word: the.' }, { answer: 'Word: and', reference: 'Word: and.' }, { answer: '{"a":1}', reference: '{"a": 1}' }]
    const m = scoreAnswers(pairs, ['exact_match', 'valid_json', 'fuzzy_match'])
    t.same(Object.keys(m), ['eval_exact_match', 'eval_valid_json', 'eval_fuzzy_match'])
    t.equal(m.eval_exact_match, 1 / 3)
    t.equal(m.eval_valid_json, 1 / 3)
    t.ok(m.eval_fuzzy_match > 0.9 && m.eval_fuzzy_match < 1, `fuzzy ${m.eval_fuzzy_match}`)
  })

  t.test("batched answers are greedyGenerate's, one prompt at a time", async (t) => {
    const weights = ModelWeights.fromHost(model.config, model.weights, { trainable: false })
    t.teardown(() => weights.dispose())
    const stopIds = answerStopIds(tokenizer, model.tokenizerJson)
    t.ok(stopIds.includes(tokenizer.eosTokenId!), 'EOS ends an answer')
    const asks = ['Repeat the first of: the and you', 'Repeat the first of: many write like', 'Say hi', 'Say something longer please', 'Hi']
    const rows = asks.map((content) => ({ messages: [{ role: 'user', content }, { role: 'assistant', content: 'unused' }] }))
    const examples = answerExamples(tokenizer, rows, 10)
    t.ok(new Set(examples.map((e) => e.prompt.length)).size >= 3, 'prompts of several lengths')
    // The reference for each: what the model itself answers alone, so every answer must match exactly.
    const own: string[] = []
    for (const e of examples) {
      const [ids] = await greedyGenerate(weights, null, [e.prompt], { maxNewTokens: answerTokenLimit(e, 12, model.config.maxPositions), eosId: null, stopIds })
      own.push(tokenizer.decode(ids, { skipSpecialTokens: true }))
    }
    const selfRefs = examples.map((e, i) => ({ ...e, reference: own[i] }))
    const r = await evaluateAnswers(weights, null, tokenizer, selfRefs, { graders: ['exact_match', 'fuzzy_match'], maxNewTokens: 12, batchTokens: 60, stopIds })
    t.same(r.metrics, { eval_exact_match: 1, eval_fuzzy_match: 1 }, `every batched answer is the model's own (e.g. ${JSON.stringify(own[0])})`)
    t.equal(r.examples, examples.length)
    t.equal(r.skipped, 0)
    t.same(r.sample, { answer: own[0], reference: own[0] })
    const tensors = tf.memory().numTensors
    const wrong = await evaluateAnswers(weights, null, tokenizer, examples, { graders: ['exact_match'], maxNewTokens: 12, batchTokens: 10000, stopIds })
    t.equal(wrong.metrics.eval_exact_match, 0, "an untrained model does not answer 'unused'")
    t.equal(tf.memory().numTensors, tensors, 'no tensor left behind')
  })
})

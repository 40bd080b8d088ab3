import t from 'tap'
import { tinyTokenizer } from './helpers/tiny-tokenizer.ts'
import { encodeChat, encodeCompletion, encodePreference } from '../../src/trainer/data/encode-examples.ts'
import { makeBatches } from '../../src/trainer/data/batching.ts'
import type { EncodedSequence } from '../../src/trainer/data/example-types.ts'

/** The text of the loss-masked tokens, span by span. */
function trainedSpans(tok: { decode(ids: number[]): string }, seq: EncodedSequence): string[] {
  const spans: string[] = []
  let current: number[] = []
  seq.lossMask.forEach((m, i) => {
    if (m) current.push(seq.ids[i])
    else if (current.length) (spans.push(tok.decode(current)), (current = []))
  })
  if (current.length) spans.push(tok.decode(current))
  return spans
}

t.test('chat: loss exactly on assistant replies plus their end-of-turn, honouring weight 0', async (t) => {
  for (const arch of ['llama', 'qwen2', 'gpt2'] as const) {
    const tok = await tinyTokenizer(arch, t.testdir())
    const seq = encodeChat(
      tok,
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi there', weight: 0 },
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: 'Sunny, 23 degrees.' },
        ],
      },
      1000,
    )
    t.same(seq.ids, tok.encodeChat([
      { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }, { role: 'assistant', content: 'Hi there' },
      { role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: 'Sunny, 23 degrees.' },
    ]), `${arch}: ids are the rendered conversation`)
    t.same(trainedSpans(tok, seq), ['Sunny, 23 degrees.<|im_end|>\n'], `${arch}: only the weighted reply is trained`)
    t.equal(seq.truncated, false)
  }
})

t.test('chat: tool calls are trained, tool results are not; content parts are joined', async (t) => {
  const tok = await tinyTokenizer('qwen2', t.testdir())
  const seq = encodeChat(
    tok,
    {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather' }, { type: 'text', text: '?' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'assistant', content: 'It is sunny.' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
    },
    1000,
  )
  t.same(trainedSpans(tok, seq), ['\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n', 'It is sunny.<|im_end|>\n'])
  t.ok(tok.decode(seq.ids).includes('<|im_start|>user\nWeather?<|im_end|>'))
})

t.test('truncation keeps the first maxLength tokens and flags it', async (t) => {
  const tok = await tinyTokenizer('qwen2', t.testdir())
  const example = { messages: [{ role: 'user' as const, content: 'Hello' }, { role: 'assistant' as const, content: 'A long answer about the weather in Paris.' }] }
  const full = encodeChat(tok, example, 1000)
  const cut = encodeChat(tok, example, 10)
  t.equal(cut.ids.length, 10)
  t.ok(cut.truncated)
  t.same(cut.ids, full.ids.slice(0, 10))
  t.same(cut.lossMask, full.lossMask.slice(0, 10))
})

t.test('prompt/completion: BOS per the tokenizer, loss on completion + EOS', async (t) => {
  const tok = await tinyTokenizer('llama', t.testdir())
  const seq = encodeCompletion(tok, { prompt: 'The capital of France is', completion: ' Paris.' }, 100)
  t.equal(seq.ids[0], tok.bosTokenId)
  t.equal(seq.ids.at(-1), tok.eosTokenId)
  t.same(trainedSpans(tok, seq), [' Paris.<|im_end|>'])
  t.equal(tok.decode(seq.ids.slice(0, seq.lossMask.indexOf(1))), '<|begin_of_text|>The capital of France is')
})

t.test('preference: chosen and rejected share the prompt; loss only on the outputs', async (t) => {
  const tok = await tinyTokenizer('qwen2', t.testdir())
  const pair = encodePreference(
    tok,
    {
      input: { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Weather?' }] },
      preferred_output: [{ role: 'assistant', content: 'Sunny.' }],
      non_preferred_output: [{ role: 'assistant', content: 'No idea, go away.' }],
    },
    1000,
  )
  t.same(trainedSpans(tok, pair.chosen), ['Sunny.<|im_end|>\n'])
  t.same(trainedSpans(tok, pair.rejected), ['No idea, go away.<|im_end|>\n'])
  t.same(pair.chosen.ids.slice(0, pair.promptLength), pair.rejected.ids.slice(0, pair.promptLength))
  t.ok(tok.decode(pair.chosen.ids.slice(0, pair.promptLength)).endsWith('<|im_start|>assistant\n'))
  t.equal(pair.chosen.lossMask.indexOf(1), pair.promptLength, 'loss starts right after the shared prompt')
})

t.test('batching: buckets by length, pads right, deterministic per seed', async (t) => {
  const lengths = [3, 9, 4, 8, 2, 10, 5, 7]
  const examples: EncodedSequence[] = lengths.map((n, k) => ({ ids: Array.from({ length: n }, (_, i) => 100 + k * 10 + i), lossMask: Array.from({ length: n }, (_, i) => (i >= 1 ? 1 : 0)), truncated: false }))
  const batches = makeBatches(examples, { batchSize: 2, seed: 1, padId: 0 })
  t.same(makeBatches(examples, { batchSize: 2, seed: 1, padId: 0 }), batches, 'same seed, same batches')
  t.same(batches.flatMap((b) => b.exampleIndices).sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'every example exactly once')
  const pairs = batches.map((b) => b.exampleIndices.map((i) => lengths[i]).sort((a, b) => a - b))
  t.same(pairs.sort((a, b) => a[0] - b[0]), [[2, 3], [4, 5], [7, 8], [9, 10]], 'neighbours in length share a batch')
  const orders = new Set([1, 2, 3, 4, 5, 6].map((seed) => makeBatches(examples, { batchSize: 2, seed, padId: 0 }).map((b) => b.exampleIndices.join()).join('|')))
  t.ok(orders.size > 1, 'different seeds give different batch orders')
  const b = batches.find((x) => x.exampleIndices.includes(4))!
  const row = b.exampleIndices.indexOf(4)
  t.equal(b.seqLen, 3)
  t.same(Array.from(b.ids.subarray(row * 3, row * 3 + 3)), [140, 141, 0])
  t.same(Array.from(b.attentionMask.subarray(row * 3, row * 3 + 3)), [1, 1, 0])
  t.same(Array.from(b.lossMask.subarray(row * 3, row * 3 + 3)), [0, 1, 0])
  t.equal(makeBatches(examples, { batchSize: 3, seed: 1, padId: 0, padToMultipleOf: 8 }).every((x) => x.seqLen % 8 === 0), true)
})

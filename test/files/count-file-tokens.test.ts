// The pre-training token count, streamed over a file, equals the trainer's own count (tokens per
// epoch after truncation, truncated examples) on chat, prompt/completion, DPO and tool-calling
// data, for two tokenizers and chat templates; the length distribution is the examples' real one.
import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { tinyTokenizer } from '../trainer/helpers/tiny-tokenizer.ts'
import { countFileTokens, LineEncodingError } from '../../src/files/count-file-tokens.ts'
import { TokenCounter, percentile } from '../../src/trainer/run/token-count.ts'
import { encodeTrainingSet, parseJsonl } from '../../src/trainer/run/training-set.ts'
import { encodeChat, encodeCompletion, encodePreference } from '../../src/trainer/data/encode-examples.ts'

const long = 'a rather long answer about the weather in Paris and in the rest of France '.repeat(3)

const chat = Array.from({ length: 14 }, (_, i) => ({
  messages: [
    ...(i % 3 === 0 ? [{ role: 'system', content: 'Be brief.' }] : []),
    { role: 'user', content: `question ${i}` },
    { role: 'assistant', content: i === 5 ? long : `answer ${i}`, ...(i % 4 === 0 ? { weight: 0 } : {}) },
    ...(i % 2 === 0 ? [{ role: 'user', content: 'and then?' }, { role: 'assistant', content: [{ type: 'text', text: `more ${i}` }] }] : []),
  ],
}))

const completion = Array.from({ length: 12 }, (_, i) => ({ prompt: `The number ${i} is`, completion: i === 3 ? ` ${long}` : ` ${i % 2 ? 'odd' : 'even'}.` }))

const preference = Array.from({ length: 11 }, (_, i) => ({
  input: { messages: [{ role: 'user', content: `Say hi ${i}` }] },
  preferred_output: [{ role: 'assistant', content: `Hello number ${i}!` }],
  non_preferred_output: [{ role: 'assistant', content: i === 7 ? long : 'no' }],
}))

const tool = { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }
const withTools = Array.from({ length: 10 }, (_, i) => ({
  tools: [tool],
  messages: [
    { role: 'user', content: `Weather in city ${i}?` },
    { role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'get_weather', arguments: `{"city": "city ${i}"}` } }] },
    { role: 'tool', tool_call_id: `c${i}`, content: i === 2 ? long.repeat(4) : 'sunny' },
    { role: 'assistant', content: `It is sunny in city ${i}.` },
  ],
}))

const datasets = { chat, completion, preference, 'chat with tools': withTools } as const
const MAX_LENGTH = 48
/** The tool's schema is in every example's prompt: a longer context. */
const maxLengthOf = (name: string) => (name === 'chat with tools' ? 400 : MAX_LENGTH)

for (const architecture of ['qwen2', 'llama'] as const) {
  for (const [name, rows] of Object.entries(datasets)) {
    t.test(`${architecture}, ${name}: the streamed count is the trainer's count`, async (t) => {
      const dir = t.testdir()
      const tokenizer = await tinyTokenizer(architecture, dir)
      const text = rows.map((r) => JSON.stringify(r)).join('\r\n') + '\n'
      const file = join(dir, 'train.jsonl')
      await writeFile(file, text)
      const preferenceData = name === 'preference'
      const maxLength = maxLengthOf(name)
      // Tiny chunks: lines (and multi-byte characters) are cut across reads.
      const counted = await countFileTokens(createReadStream(file, { highWaterMark: 37 }), new TokenCounter(tokenizer, { preference: preferenceData, maxLength }))
      const trainer = encodeTrainingSet(tokenizer, preferenceData ? 'dpo' : 'lora', parseJsonl(text, 'training', 'train.jsonl'), [], maxLength)

      t.equal(counted.examples, trainer.examples, 'examples')
      t.equal(counted.tokens, trainer.tokensPerEpoch, `tokens per epoch: ${counted.tokens}`)
      t.equal(counted.truncated, trainer.truncated.training, `truncated examples: ${counted.truncated}`)
      t.ok(counted.truncated >= 1, 'the long example is over the context')
      t.equal(counted.maxLength, maxLength)

      // The distribution is over the full (untruncated) lengths.
      const lengths = rows.map((r) => {
        if (preferenceData) {
          const p = encodePreference(tokenizer, r as never, Infinity)
          return Math.max(p.chosen.ids.length, p.rejected.ids.length)
        }
        return ('messages' in r ? encodeChat(tokenizer, r as never, Infinity) : encodeCompletion(tokenizer, r as never, Infinity)).ids.length
      }).sort((a, b) => a - b)
      t.same({ p50: counted.p50, p95: counted.p95, max: counted.max }, { p50: percentile(lengths, 50), p95: percentile(lengths, 95), max: lengths.at(-1) })
      t.ok(counted.max > maxLength, `the longest example (${counted.max} tokens) is reported whole`)
    })
  }
}

t.test('percentiles are nearest-rank', async (t) => {
  t.equal(percentile([], 50), 0)
  t.equal(percentile([7], 95), 7)
  t.equal(percentile([1, 2, 3, 4], 50), 2)
  t.equal(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95), 95)
})

t.test('a line the chat template cannot render is named', async (t) => {
  const dir = t.testdir()
  const tokenizer = await tinyTokenizer('qwen2', dir)
  const rows = [chat[1], { messages: 'not a list' }, chat[2]]
  const counting = countFileTokens([rows.map((r) => JSON.stringify(r)).join('\n')], new TokenCounter(tokenizer, { preference: false, maxLength: MAX_LENGTH }))
  await t.rejects(counting, LineEncodingError)
  await t.rejects(countFileTokens([rows.map((r) => JSON.stringify(r)).join('\n')], new TokenCounter(tokenizer, { preference: false, maxLength: MAX_LENGTH })), /^line 2: /)
})

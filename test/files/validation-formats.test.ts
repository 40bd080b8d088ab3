// The examples OpenAI accepts are accepted here too, with the format detected
// and the statistics counted.

import t from 'tap'
import { validateFineTuneJsonl } from '../../src/files/validation/index.ts'

const jsonl = (...examples: unknown[]) => [Buffer.from(examples.map((e) => JSON.stringify(e)).join('\n') + '\n')]

t.test('chat: plain, multi-turn, weighted, text parts, names', async (t) => {
  const report = await validateFineTuneJsonl(
    jsonl(
      { messages: [{ role: 'user', content: 'abcd' }, { role: 'assistant', content: 'efgh' }] },
      {
        messages: [
          { role: 'system', content: 'You are terse.', name: 'policy' },
          { role: 'user', content: [{ type: 'text', text: 'Hi ' }, { type: 'text', text: 'there' }] },
          { role: 'assistant', content: 'Yo', weight: 0 },
          { role: 'user', content: 'again' },
          { role: 'assistant', content: [{ type: 'text', text: 'Yo yo' }], weight: 1, refusal: null },
        ],
      },
    ),
  )
  t.same(report.errors, [])
  t.equal(report.ok, true)
  t.equal(report.format, 'chat')
  t.equal(report.examples, 2)
  // 4+4 chars, then 14+3+5+2+5+5 chars
  t.same(report.stats, {
    bytes: report.stats.bytes,
    lines: 2,
    minChars: 8,
    maxChars: 34,
    meanChars: 21,
    estimatedTokens: 2 + 9,
    maxEstimatedTokens: 9,
    assistantMessages: 3,
    examplesWithTools: 0,
  })
})

t.test('chat with tools: tool_calls, tool results, tools, parallel_tool_calls, legacy functions', async (t) => {
  const call = { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }
  const tools = [
    { type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object' }, strict: true } },
  ]
  const report = await validateFineTuneJsonl(
    jsonl(
      {
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'call_1', content: '3°C' },
          { role: 'assistant', content: 'It is 3°C.' },
        ],
        tools,
        parallel_tool_calls: false,
      },
      // A tool call alone is a trainable assistant message.
      { messages: [{ role: 'user', content: 'Oslo?' }, { role: 'assistant', tool_calls: [call] }], tools },
      // The legacy function-calling shape.
      {
        messages: [
          { role: 'user', content: 'Oslo?' },
          { role: 'assistant', content: null, function_call: { name: 'weather', arguments: '{}' } },
          { role: 'function', name: 'weather', content: '3°C' },
          { role: 'assistant', content: 'Cold.' },
        ],
        functions: [{ name: 'weather', parameters: { type: 'object', properties: {} } }],
      },
    ),
  )
  t.same(report.errors, [])
  t.equal(report.examples, 3)
  t.equal(report.stats.examplesWithTools, 3)
  t.equal(report.stats.assistantMessages, 5)
  // Tool-call names and arguments count as trained text: 16 + (7+15) + 3 + 10.
  t.equal(report.stats.maxChars, 51)
})

t.test('prompt/completion', async (t) => {
  const report = await validateFineTuneJsonl(jsonl({ prompt: 'Translate: cat ->', completion: ' chat' }, { prompt: '', completion: 'x' }))
  t.same(report.errors, [])
  t.equal(report.format, 'prompt_completion')
  t.equal(report.stats.maxChars, 22)
  t.equal(report.stats.minChars, 1)
  t.equal(report.stats.assistantMessages, 0)
})

t.test('preference, with current and older output names', async (t) => {
  const input = {
    messages: [
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'Hello' },
    ],
    tools: [],
    parallel_tool_calls: true,
  }
  const report = await validateFineTuneJsonl(
    jsonl(
      { input, preferred_output: [{ role: 'assistant', content: 'Hi!' }], non_preferred_output: [{ role: 'assistant', content: 'What.' }] },
      { input, preferred_completion: [{ role: 'assistant', content: 'Hi!' }], non_preferred_completion: [{ role: 'assistant', content: 'What.' }] },
    ),
  )
  t.same(report.errors, [])
  t.equal(report.format, 'preference')
  t.equal(report.examples, 2)
  t.equal(report.stats.assistantMessages, 4)
  t.equal(report.stats.maxChars, 8 + 5 + 3 + 5)
})

t.test('the source may be a Readable stream of any chunking, and strings', async (t) => {
  const { Readable } = await import('node:stream')
  const text = JSON.stringify({ prompt: 'héllo wörld', completion: '→ ok' }) + '\n'
  const bytes = Buffer.from(text.repeat(100))
  // 7-byte chunks split the multi-byte characters between chunks.
  const pieces = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7))
  const fromStream = await validateFineTuneJsonl(Readable.from(pieces))
  t.equal(fromStream.ok, true)
  t.equal(fromStream.examples, 100)
  t.equal(fromStream.stats.bytes, bytes.length)
  const fromStrings = await validateFineTuneJsonl([text, text])
  t.equal(fromStrings.examples, 2)
  const fromUint8 = await validateFineTuneJsonl([new Uint8Array(bytes)])
  t.equal(fromUint8.examples, 100)
})

t.test('a last line without a newline is still an example', async (t) => {
  const report = await validateFineTuneJsonl([Buffer.from('{"prompt":"a","completion":"b"}\n{"prompt":"c","completion":"d"}')])
  t.equal(report.examples, 2)
  t.equal(report.stats.lines, 2)
})

// Every error the validator reports, each with the exact line and message a
// user would read in status_details.

import t, { type Test } from 'tap'
import { statusDetails, validateFineTuneJsonl } from '../../src/files/validation/index.ts'

const system = { role: 'system', content: 'Be brief.' }
const user = { role: 'user', content: 'Hi' }
const assistant = { role: 'assistant', content: 'Hello!' }
const chat = (...messages: unknown[]) => JSON.stringify({ messages })
const good = chat(system, user, assistant)

async function validate(text: string | Buffer) {
  return validateFineTuneJsonl([typeof text === 'string' ? Buffer.from(text) : text])
}

// Validates `lines` and expects exactly one error, on `line`, equal to `message`.
async function expectOnlyError(tt: Test, lines: string[], line: number, message: string) {
  const report = await validate(lines.join('\n') + '\n')
  tt.equal(report.ok, false, 'not ok')
  tt.same(report.errors, [{ line, message }])
  tt.equal(report.errorCount, 1)
}

t.test('invalid UTF-8 names the line', async (t) => {
  const bad = Buffer.concat([Buffer.from(good + '\n' + good + '\n' + good + '\n'), Buffer.from('{"prompt": "caf'), Buffer.from([0xe9]), Buffer.from('", "completion": "x"}\n')])
  const report = await validate(bad)
  t.same(report.errors, [{ line: 4, message: 'invalid UTF-8' }])
  t.equal(report.examples, 3)
  t.equal(statusDetails(report), 'line 4: invalid UTF-8')
})

t.test('a byte order mark is refused, and the line is still checked', async (t) => {
  const report = await validate(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good + '\n' + good + '\n')]))
  t.same(report.errors, [{ line: 1, message: 'file starts with a UTF-8 byte order mark (BOM); save it without BOM' }])
  t.equal(report.examples, 2, 'line 1 is otherwise a valid example')
})

t.test('blank lines are errors, a final newline is not', async (t) => {
  const report = await validate([good, good, good, good, '', good, '  \t', good].join('\n') + '\n')
  t.same(report.errors, [
    { line: 5, message: 'blank line; every line must be one JSON object' },
    { line: 7, message: 'blank line; every line must be one JSON object' },
  ])
  t.equal(report.stats.lines, 8)
  t.equal((await validate(good + '\n\n')).errors[0]?.line, 2, 'a trailing empty line counts as blank')
})

t.test('CRLF line endings are accepted', async (t) => {
  const report = await validate(`${good}\r\n${good}\r\n`)
  t.equal(report.ok, true)
  t.equal(report.examples, 2)
})

t.test('a line over the limit is reported with its full length', async (t) => {
  const long = JSON.stringify({ prompt: 'x'.repeat(5000), completion: 'y' })
  const report = await validateFineTuneJsonl([Buffer.from(`${good}\n${long}\n${good}`)], { maxLineBytes: 1000 })
  t.same(report.errors, [{ line: 2, message: `line is ${long.length} bytes, over the limit of 1000 bytes` }])
  t.equal(report.examples, 2, 'scanning goes on after the long line')
})

t.test('a JSON array is named once, on line 1', async (t) => {
  const oneLine = await validate(JSON.stringify([{ messages: [user, assistant] }, { messages: [user, assistant] }]))
  t.same(oneLine.errors, [{ line: 1, message: 'the file is a JSON array, expected one JSON object per line (JSONL)' }])
  const pretty = await validate(JSON.stringify([{ messages: [user, assistant] }], null, 2))
  t.same(pretty.errors, [{ line: 1, message: 'the file is a JSON array, expected one JSON object per line (JSONL)' }])
  t.equal(pretty.errorCount, 1, 'later lines are not reported')
  t.ok(pretty.stats.lines > 5, 'but still counted')
})

t.test('a JSON array longer than the line limit is still named', async (t) => {
  const array = JSON.stringify(Array.from({ length: 50 }, () => ({ messages: [user, assistant] })))
  const report = await validateFineTuneJsonl([Buffer.from(array)], { maxLineBytes: 1000 })
  t.same(report.errors, [{ line: 1, message: 'the file is a JSON array, expected one JSON object per line (JSONL)' }])
})

t.test('pretty-printed JSON objects are named once', async (t) => {
  const report = await validate(JSON.stringify({ messages: [user, assistant] }, null, 2))
  t.same(report.errors, [{ line: 1, message: 'the file is pretty-printed JSON, expected one JSON object per line (JSONL)' }])
})

t.test('invalid JSON gives the parser message and column', async (t) => {
  const report = await validate(`${good}\n{"prompt": "a", "completion": "b",}\n{"prompt": "a"\n`)
  t.equal(report.errors.length, 2)
  t.equal(report.errors[0]?.line, 2)
  t.match(report.errors[0]?.message, /^invalid JSON: .* at column 35$/)
  t.equal(report.errors[1]?.line, 3)
  t.match(report.errors[1]?.message, /^invalid JSON: /)
})

t.test('a line that is JSON but not an object', async (t) => {
  await expectOnlyError(t, [good, '42'], 2, 'expected a JSON object, got a number')
  await expectOnlyError(t, [good, 'null'], 2, 'expected a JSON object, got null')
  await expectOnlyError(t, [good, '"text"'], 2, 'expected a JSON object, got a string')
  await expectOnlyError(t, [good, '[1]'], 2, 'expected a JSON object, got an array')
})

t.test('an unrecognised example says which keys it wanted', async (t) => {
  await expectOnlyError(
    t,
    [good, '{"text": "hello"}'],
    2,
    "unrecognized example: expected 'messages' (chat), 'prompt' and 'completion' (prompt_completion), or 'input', 'preferred_output' and 'non_preferred_output' (preference)",
  )
  await expectOnlyError(t, [JSON.stringify({ messages: [user, assistant], prompt: 'x' })], 1, "example mixes formats: 'messages' is chat but 'prompt' is prompt_completion")
})

t.test('chat examples: messages, roles and content', async (t) => {
  await expectOnlyError(t, [chat(user)], 1, 'example has no assistant message to train on')
  await expectOnlyError(t, [good, good, chat(user, { role: 'wizard', content: 'x' }, assistant)], 3, "unknown role 'wizard' in messages[1]")
  await expectOnlyError(t, [good, chat(user, { role: 'user', content: 7 }, assistant)], 2, 'messages[1].content must be a string or an array of text parts')
  await expectOnlyError(t, [chat(user, { role: 'user', content: [] }, assistant)], 1, 'messages[1].content must be a string or an array of text parts')
  await expectOnlyError(t, [chat({ role: 'user' }, assistant)], 1, 'messages[0].content is missing')
  await expectOnlyError(t, [chat({ content: 'x' }, assistant)], 1, 'messages[0].role is missing')
  await expectOnlyError(t, [chat('hi', assistant)], 1, 'messages[0] must be an object')
  await expectOnlyError(t, [JSON.stringify({ messages: [] })], 1, 'messages must be a non-empty array, got an array of 0')
  await expectOnlyError(t, [JSON.stringify({ messages: 'hi' })], 1, 'messages must be a non-empty array, got a string')
  await expectOnlyError(t, [chat({ role: 'developer', content: 'x' }, user, assistant)], 1, "messages[0]: role 'developer' is not supported for fine-tuning; use 'system'")
  await expectOnlyError(t, [chat({ role: 'user', contents: 'x' }, assistant)], 1, "messages[0] has unknown key 'contents' for role 'user'")
  await expectOnlyError(t, [JSON.stringify({ messages: [user, assistant], metadata: {} })], 1, "unknown key 'metadata' in chat example")
  await expectOnlyError(t, [chat({ role: 'assistant' })], 1, 'messages[0]: assistant message must have content or tool_calls')
})

t.test('content parts: text only', async (t) => {
  await expectOnlyError(
    t,
    [chat({ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }, assistant)],
    1,
    "messages[0].content[0] has type 'image_url'; only text parts are supported",
  )
  await expectOnlyError(t, [chat({ role: 'user', content: [{ type: 'text', text: 3 }] }, assistant)], 1, 'messages[0].content[0].text must be a string')
  await expectOnlyError(t, [chat({ role: 'user', content: ['hi'] }, assistant)], 1, 'messages[0].content[0] must be a text part {"type": "text", "text": "..."}')
})

t.test('weight is 0 or 1, on assistant messages only', async (t) => {
  await expectOnlyError(t, [chat(user, { ...assistant, weight: 0.5 })], 1, 'messages[1].weight must be 0 or 1')
  await expectOnlyError(t, [chat(user, { ...assistant, weight: true })], 1, 'messages[1].weight must be 0 or 1')
  await expectOnlyError(t, [chat({ ...user, weight: 1 }, assistant)], 1, 'messages[0].weight is only allowed on assistant messages')
})

t.test('malformed tool calls', async (t) => {
  const call = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q": "x"}' } }
  const withCall = (c: unknown) => chat(user, { role: 'assistant', tool_calls: [c] })
  await expectOnlyError(t, [chat(user, { role: 'assistant', tool_calls: [] })], 1, 'messages[1].tool_calls must be a non-empty array')
  await expectOnlyError(t, [chat(user, { role: 'assistant', tool_calls: {} })], 1, 'messages[1].tool_calls must be a non-empty array')
  await expectOnlyError(t, [withCall({ ...call, id: '' })], 1, 'messages[1].tool_calls[0].id must be a non-empty string')
  await expectOnlyError(t, [withCall({ ...call, type: 'code' })], 1, "messages[1].tool_calls[0].type must be 'function'")
  await expectOnlyError(t, [withCall({ ...call, function: { arguments: '{}' } })], 1, 'messages[1].tool_calls[0].function.name must be a non-empty string')
  await expectOnlyError(
    t,
    [withCall({ ...call, function: { name: 'lookup', arguments: { q: 'x' } } })],
    1,
    'messages[1].tool_calls[0].function.arguments must be a string of JSON-encoded arguments, got an object',
  )
  await expectOnlyError(t, [withCall({ ...call, function: { name: 'lookup', arguments: '{q: x}' } })], 1, 'messages[1].tool_calls[0].function.arguments is not valid JSON')
  await expectOnlyError(t, [withCall('call_1')], 1, 'messages[1].tool_calls[0] must be an object')
  await expectOnlyError(t, [chat(user, { role: 'assistant', tool_calls: [call] }, { role: 'tool', content: 'ok' }, assistant)], 1, 'messages[2].tool_call_id must be a non-empty string')
  await expectOnlyError(t, [JSON.stringify({ messages: [user, assistant], tools: [{ type: 'function', function: {} }] })], 1, 'tools[0].function.name must be a non-empty string')
  await expectOnlyError(t, [JSON.stringify({ messages: [user, assistant], parallel_tool_calls: 'yes' })], 1, 'parallel_tool_calls must be a boolean')
})

t.test('prompt/completion and preference examples', async (t) => {
  await expectOnlyError(t, ['{"prompt": "a", "completion": 1}'], 1, 'completion must be a string, got a number')
  await expectOnlyError(t, ['{"prompt": "a"}'], 1, 'completion is missing')
  await expectOnlyError(t, [JSON.stringify({ preferred_output: [assistant], non_preferred_output: [assistant] })], 1, 'input is missing')
  const input = { messages: [user] }
  const preferred_output = [assistant]
  const non_preferred_output = [{ role: 'assistant', content: 'Go away.' }]
  await expectOnlyError(t, [JSON.stringify({ input, preferred_output })], 1, 'non_preferred_output is missing')
  await expectOnlyError(
    t,
    [JSON.stringify({ input, preferred_output: [assistant, assistant], non_preferred_output })],
    1,
    'preferred_output must be an array holding exactly one assistant message, got an array of 2',
  )
  await expectOnlyError(t, [JSON.stringify({ input, preferred_output: [user], non_preferred_output })], 1, "preferred_output[0].role must be 'assistant', got 'user'")
  await expectOnlyError(t, [JSON.stringify({ input: [user], preferred_output, non_preferred_output })], 1, 'input must be an object with messages, got an array')
  await expectOnlyError(
    t,
    [JSON.stringify({ input, preferred_output, preferred_completion: preferred_output, non_preferred_output })],
    1,
    'use either preferred_output or preferred_completion, not both',
  )
  await expectOnlyError(
    t,
    [JSON.stringify({ input, preferred_output: [{ ...assistant, weight: 1 }], non_preferred_output })],
    1,
    'preferred_output[0].weight is only allowed in supervised (chat) examples',
  )
  await expectOnlyError(t, [JSON.stringify({ input: { messages: [{ role: 'wizard', content: 'x' }] }, preferred_output, non_preferred_output })], 1, "unknown role 'wizard' in input.messages[0]")
})

t.test('mixing formats in one file', async (t) => {
  const report = await validate([good, '{"prompt": "a", "completion": "b"}', good].join('\n'))
  t.same(report.errors, [{ line: 2, message: 'example is in prompt_completion format, but the file is in chat format (from line 1); use one format per file' }])
  t.equal(report.format, 'chat')
  t.equal(report.examples, 2)
})

t.test('the format comes from the first valid example', async (t) => {
  const report = await validate([chat(user), '{"prompt": "a", "completion": "b"}', good].join('\n'))
  t.equal(report.format, 'prompt_completion')
  t.same(report.errors.map((e) => e.line), [1, 3])
})

t.test('an empty file', async (t) => {
  const report = await validateFineTuneJsonl([])
  t.same(report, {
    ok: false,
    format: null,
    examples: 0,
    errors: [{ line: 0, message: 'file is empty' }],
    errorCount: 1,
    stats: { bytes: 0, lines: 0, minChars: 0, maxChars: 0, meanChars: 0, estimatedTokens: 0, maxEstimatedTokens: 0, assistantMessages: 0, examplesWithTools: 0 },
  })
  t.equal(statusDetails(report), 'file is empty')
})

t.test('only the first errors are listed, all are counted', async (t) => {
  const lines = Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? good : '{oops'))
  const report = await validateFineTuneJsonl([Buffer.from(lines.join('\n'))], { maxErrors: 3 })
  t.equal(report.errorCount, 12)
  t.same(report.errors.map((e) => e.line), [2, 4, 6])
  t.equal(report.examples, 13)
  const details = statusDetails(report) ?? ''
  t.match(details, /^line 2: invalid JSON: .*; line 4: invalid JSON: .*; line 6: invalid JSON: .* \(and 9 more errors\)$/)
})

t.test("names of Object.prototype's members are just unknown names", async (t) => {
  await expectOnlyError(t, [chat(user, { role: 'constructor', content: 'x' }, assistant)], 1, "unknown role 'constructor' in messages[1]")
  await expectOnlyError(t, [chat(user, { role: 'toString', content: 'x' }, assistant)], 1, "unknown role 'toString' in messages[1]")
  await expectOnlyError(
    t,
    ['{"constructor": 1}'],
    1,
    "unrecognized example: expected 'messages' (chat), 'prompt' and 'completion' (prompt_completion), or 'input', 'preferred_output' and 'non_preferred_output' (preference)",
  )
  await expectOnlyError(t, ['{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}], "__proto__": {}}'], 1, "unknown key '__proto__' in chat example")
})

t.test('long user text in messages is clipped', async (t) => {
  const role = 'w'.repeat(500)
  const report = await validate(chat(user, { role, content: 'x' }, assistant))
  t.equal(report.errors[0]?.message, `unknown role '${'w'.repeat(40)}…' in messages[1]`)
})

import t from 'tap'
import { tinyTokenizer } from './helpers/tiny-tokenizer.ts'

const conversation = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi there' },
]

t.test('renders ChatML exactly, with and without the generation prompt', async (t) => {
  const tok = await tinyTokenizer('qwen2', t.testdir())
  t.equal(tok.renderChat(conversation), '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n')
  t.equal(tok.renderChat(conversation.slice(1, 2), { addGenerationPrompt: true }), '<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n')
})

t.test('tools are listed in the system turn; tool calls and tool results render', async (t) => {
  const tok = await tinyTokenizer('qwen2', t.testdir())
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }]
  const text = tok.renderChat(
    [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
    ],
    { tools },
  )
  t.equal(
    text,
    '<|im_start|>system\n# Tools\n\n<tools>\n{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}\n</tools><|im_end|>\n' +
      '<|im_start|>user\nWeather?<|im_end|>\n' +
      '<|im_start|>assistant\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>tool\nsunny<|im_end|>\n',
  )
})

t.test('llama: the template writes BOS, so encodeChat has exactly one (transformers uses add_special_tokens=False)', async (t) => {
  const tok = await tinyTokenizer('llama', t.testdir())
  const bos = tok.bosTokenId!
  t.equal(tok.tokenToId('<|begin_of_text|>'), bos)
  const rendered = tok.renderChat(conversation)
  t.ok(rendered.startsWith('<|begin_of_text|><|im_start|>system'))
  const ids = tok.encodeChat(conversation)
  t.equal(ids[0], bos)
  t.equal(ids.filter((id) => id === bos).length, 1, 'one BOS')
  t.equal(tok.encode(rendered, { addSpecialTokens: true }).filter((id) => id === bos).length, 2, 'the post-processor would have added a second')
  t.equal(tok.encode('Hello')[0], bos, 'plain encode adds BOS like Llama-3 tokenizers')
  t.equal(tok.decode(ids), rendered)
})

t.test('qwen2 / gpt2 add no BOS; special-token strings in text map to their single ids', async (t) => {
  for (const arch of ['qwen2', 'gpt2'] as const) {
    const tok = await tinyTokenizer(arch, t.testdir())
    const ids = tok.encodeChat(conversation)
    t.equal(ids[0], tok.tokenToId('<|im_start|>'), `${arch}: starts with <|im_start|>`)
    t.equal(ids.filter((id) => id === tok.tokenToId('<|im_end|>')).length, 3)
    t.same(tok.encode('Hello'), tok.encode('Hello', { addSpecialTokens: false }))
  }
  const gpt2 = await tinyTokenizer('gpt2', t.testdir())
  t.equal(gpt2.eosTokenId, gpt2.tokenToId('<|endoftext|>'))
  t.equal(gpt2.padTokenId, gpt2.tokenToId('<|endoftext|>'))
})

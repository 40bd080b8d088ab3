// The Ollama Modelfile beside a GGUF: the chat template's pieces, the Go TEMPLATE built from them,
// the stop tokens, and templates that cannot be converted (no TEMPLATE rather than a wrong one).
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { assembleChat, chatPieces, ollamaModelfile, ollamaTemplate } from '../../src/trainer/export/ollama-modelfile.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { TextTokenizer } from '../../src/trainer/tokenizer/text-tokenizer.ts'
import { tmpDir } from '../helpers/test-app.ts'

const LLAMA3 = "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}" +
  '{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}'
// Qwen2-style: a default system prompt when the conversation has none.
const DEFAULT_SYSTEM = "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are helpful.<|im_end|>\n{% endif %}" +
  "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
// Turns that depend on their position: no fixed pieces exist.
const POSITIONAL = "{% for m in messages %}{% if loop.index0 % 2 == 0 %}[even]{% else %}[odd]{% endif %}{{ m.content }}{% endfor %}"

t.test('Modelfile', async (t) => {
  const dir = await tmpDir(t, 'skillet-modelfile-')
  await makeTinyModel({ architecture: 'llama', dir, hiddenSize: 32, numLayers: 1 })
  const tokenizerJson = JSON.parse(await fs.readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>
  const tokenizerConfig = JSON.parse(await fs.readFile(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>
  const withTemplate = (template: string | null) => new TextTokenizer(tokenizerJson, tokenizerConfig, template)
  const conversation = [
    { role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hi' }, { role: 'assistant' as const, content: 'Hello.' }, { role: 'user' as const, content: 'Bye' },
  ]

  t.test("the demo model's ChatML template", async (t) => {
    const tokenizer = withTemplate(tokenizerConfig.chat_template as string)
    const pieces = chatPieces(tokenizer)!
    t.ok(pieces, 'converted')
    t.same(pieces.user, { before: '<|im_start|>user\n', after: '<|im_end|>\n' })
    t.same(pieces.assistant, { before: '<|im_start|>assistant\n', after: '<|im_end|>\n' })
    t.equal(pieces.generation, '<|im_start|>assistant\n')
    const bos = tokenizer.bosToken ?? ''
    t.equal(bos + assembleChat(pieces, conversation, true), tokenizer.renderChat(conversation, { addGenerationPrompt: true }), 'the pieces rebuild the template (BOS left to llama.cpp)')
    const file = ollamaModelfile('model-f16.gguf', tokenizer, tokenizerJson, tokenizerConfig.chat_template as string)
    t.match(file, /^FROM \.\/model-f16\.gguf$/m)
    t.match(file, /^TEMPLATE """\{\{- range \$i, \$_ := \.Messages \}\}/m)
    t.match(file, /\{\{ else if eq \.Role "user" \}\}<\|im_start\|>user\n\{\{ \.Content \}\}<\|im_end\|>\n\{\{ else if/)
    t.match(file, /^PARAMETER stop "<\|im_end\|>"$/m)
  })

  t.test('a Llama-3 template', async (t) => {
    const pieces = chatPieces(withTemplate(LLAMA3))!
    t.same(pieces.system, { before: '<|start_header_id|>system<|end_header_id|>\n\n', after: '<|eot_id|>' })
    t.equal(pieces.defaultSystem, '')
    t.equal(ollamaTemplate(pieces), '{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 }}' +
      '{{ if eq .Role "system" }}<|start_header_id|>system<|end_header_id|>\n\n{{ .Content }}<|eot_id|>' +
      '{{ else if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Content }}<|eot_id|>' +
      '{{ else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Content }}{{ if not $last }}<|eot_id|>{{ end }}' +
      '{{ end }}{{ if and $last (ne .Role "assistant") }}<|start_header_id|>assistant<|end_header_id|>\n\n{{ end }}{{ end }}')
  })

  t.test('a default system prompt', async (t) => {
    const tokenizer = withTemplate(DEFAULT_SYSTEM)
    const pieces = chatPieces(tokenizer)!
    t.equal(pieces.defaultSystem, '<|im_start|>system\nYou are helpful.<|im_end|>\n')
    const noSystem = conversation.slice(1)
    t.equal(assembleChat(pieces, noSystem, true), tokenizer.renderChat(noSystem, { addGenerationPrompt: true }))
    t.match(ollamaTemplate(pieces), '{{ if and (eq $i 0) (ne .Role "system") }}<|im_start|>system\nYou are helpful.<|im_end|>\n{{ end }}')
  })

  t.test('templates that cannot be converted get no TEMPLATE', async (t) => {
    t.equal(chatPieces(withTemplate(POSITIONAL)), null)
    const file = ollamaModelfile('model-f16.gguf', withTemplate(POSITIONAL), tokenizerJson, POSITIONAL)
    t.notMatch(file, /^TEMPLATE/m)
    t.match(file, /could not be converted/)
    const goSyntax = "{% for m in messages %}{{ '{{' }}{{ m.content }}{% endfor %}{% if add_generation_prompt %}>{% endif %}"
    t.notMatch(ollamaModelfile('m.gguf', withTemplate(goSyntax), tokenizerJson, goSyntax), /^TEMPLATE/m, 'a template writing {{ literally')
    t.match(ollamaModelfile('m.gguf', withTemplate(null), tokenizerJson, null), /has no chat template/)
  })
})

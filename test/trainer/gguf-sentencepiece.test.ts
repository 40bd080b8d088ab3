// SentencePiece tokenizers (Llama-2, Mistral, TinyLlama, Phi-3 style) in the GGUF export: a tiny
// Llama with a generated Llama-2-style tokenizer.json (▁ spaces, byte fallback) is exported with
// tokenizer.ggml.model "llama", scores and token types; llama.cpp then tokenises the same strings
// into the same ids as @huggingface/tokenizers does, and computes the reference logits.
import { join } from 'node:path'
import t from 'tap'
import { readGgufFileInfo } from 'node-llama-cpp'
import { exportGguf } from '../../src/trainer/export/gguf.ts'
import { TokenType } from '../../src/trainer/export/gguf-vocab.ts'
import { llamaCppTokenize } from '../../src/trainer/export/llama-cpp-logits.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { TextTokenizer } from '../../src/trainer/tokenizer/text-tokenizer.ts'
import { checkGoldenCases } from './helpers/golden-gguf.ts'
import { referenceLogits } from './helpers/reference-forward.ts'

const STRINGS = [
  'The water is hot and the day is long.',
  'Hello world, which model did you train?',
  ' leading space',
  'two  spaces   and three',
  'line one\nline two\n',
  'numbers 1234 and 2025!',
  'unseen words: zebra quixotic jazz',
  'UPPER lower MiXeD',
  'café naïve — “quotes”',
  '日本語のテキスト',
  'emoji 🦙 llama',
  'tabs\tand\ttabs',
  '',
  'a',
]

t.test('a SentencePiece tokenizer in GGUF: metadata, the same token ids as HF tokenizers, the same logits', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'm'), tokenizer: 'sentencepiece', seed: 7, initStd: 0.1 })
  const model = await loadModelDir(join(dir, 'm'))
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const hf = STRINGS.map((s) => tokenizer.encode(s, { addSpecialTokens: false }))
  const byId = new Map(Object.entries((model.tokenizerJson.model as { vocab: Record<string, number> }).vocab).map(([piece, id]) => [id, piece]))
  const pieces = (ids: number[]) => ids.map((id) => byId.get(id))
  t.ok(hf[0].length < STRINGS[0].length / 2, `merged pieces: ${JSON.stringify(pieces(hf[0]))}`)
  t.ok(pieces(hf[9]).every((p) => /^<0x[0-9A-F]{2}>$/.test(p ?? '') || p === '▁'), `unseen characters fall back to bytes: ${JSON.stringify(pieces(hf[9]))}`)
  t.equal(tokenizer.decode(hf[9]), STRINGS[9], 'and decode back')
  t.same(tokenizer.encode('Hi').slice(0, 1), [1], 'BOS <s> is prepended')

  await exportGguf(model, join(dir, 'm.gguf'), { dtype: 'F32' })
  const info = await readGgufFileInfo(join(dir, 'm.gguf'), { sourceType: 'filesystem', logWarnings: false })
  const tk = (info.metadata as any).tokenizer.ggml
  t.match(tk, { model: 'llama', pre: 'default', bos_token_id: 1, unknown_token_id: 0, add_bos_token: true, add_space_prefix: true })
  t.notOk('merges' in tk, 'no merges: SentencePiece merges by score')
  t.equal(tk.tokens.length, model.config.vocabSize)
  t.equal(tk.scores.length, model.config.vocabSize)
  t.same([tk.token_type[0], tk.token_type[1], tk.token_type[2], tk.token_type[3 + 0x41]], [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.BYTE], '<unk> UNKNOWN, <s> </s> CONTROL, <0x41> BYTE')
  t.equal(tk.tokens[3 + 0x41], '<0x41>')
  const normal = tk.token_type.map((type: number, id: number) => [type, id]).filter(([type]: number[]) => type === TokenType.NORMAL).map(([, id]: number[]) => id)
  t.ok(normal.every((id: number, k: number) => k === 0 || tk.scores[id] < tk.scores[normal[k - 1]]), 'scores fall with the merge rank')

  const cpp = await llamaCppTokenize(join(dir, 'm.gguf'), STRINGS)
  const differing = STRINGS.map((s, i) => ({ s, hf: hf[i], cpp: cpp[i] })).filter((d) => d.hf.join() !== d.cpp.join())
  t.same(differing, [], `llama.cpp tokenises all ${STRINGS.length} strings as HF tokenizers does`)

  await checkGoldenCases(t, dir, [{ label: 'llama with a SentencePiece vocabulary', model, reference: (tokens) => referenceLogits(model.config, model.weights, tokens) }])
})

t.test('a Gemma-style SentencePiece tokenizer (no ▁ prepended): add_space_prefix false, the same ids in llama.cpp', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'gemma2', dir: join(dir, 'm'), seed: 7, initStd: 0.1 })
  const model = await loadModelDir(join(dir, 'm'))
  // Gemma's tokenizer.json normalizer only replaces spaces; Llama-2's also prepends one.
  const normalizer = model.tokenizerJson.normalizer as { normalizers: { type: string }[] }
  normalizer.normalizers = normalizer.normalizers.filter((n) => n.type !== 'Prepend')
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const hf = STRINGS.map((s) => tokenizer.encode(s, { addSpecialTokens: false }))
  await exportGguf(model, join(dir, 'm.gguf'), { dtype: 'F32' })
  const info = await readGgufFileInfo(join(dir, 'm.gguf'), { sourceType: 'filesystem', logWarnings: false })
  t.equal((info.metadata as any).tokenizer.ggml.add_space_prefix, false)
  const cpp = await llamaCppTokenize(join(dir, 'm.gguf'), STRINGS)
  const differing = STRINGS.map((s, i) => ({ s, hf: hf[i], cpp: cpp[i] })).filter((d) => d.hf.join() !== d.cpp.join())
  t.same(differing, [], `llama.cpp tokenises all ${STRINGS.length} strings as HF tokenizers does`)
})

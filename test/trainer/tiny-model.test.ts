import t from 'tap'
import { readFile, writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { writeSafetensorsFile } from '../../src/trainer/io/safetensors.ts'

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'))

t.test('llama: HF names and shapes, GQA, untied lm_head, real config keys', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir, seed: 1 })
  const m = await loadModelDir(dir)
  t.match(m.config, { architecture: 'llama', hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, vocabSize: 512, maxPositions: 256, tieWordEmbeddings: false })
  const shapes = Object.fromEntries([...m.weights].map(([name, w]) => [name, w.shape]))
  t.same(shapes['model.embed_tokens.weight'], [512, 64])
  t.same(shapes['model.layers.1.self_attn.q_proj.weight'], [64, 64])
  t.same(shapes['model.layers.1.self_attn.k_proj.weight'], [32, 64])
  t.same(shapes['model.layers.1.self_attn.v_proj.weight'], [32, 64])
  t.same(shapes['model.layers.1.self_attn.o_proj.weight'], [64, 64])
  t.same(shapes['model.layers.0.mlp.gate_proj.weight'], [128, 64])
  t.same(shapes['model.layers.0.mlp.down_proj.weight'], [64, 128])
  t.same(shapes['model.layers.0.input_layernorm.weight'], [64])
  t.same(shapes['model.norm.weight'], [64])
  t.same(shapes['lm_head.weight'], [512, 64])
  t.equal(m.weights.size, 1 + 2 * 9 + 2)
  t.notOk(m.weights.has('model.layers.0.self_attn.q_proj.bias'))
  const raw = await readJson(join(dir, 'config.json'))
  t.match(raw, { architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'float32', hidden_act: 'silu', rope_scaling: null })
  t.match(await readJson(join(dir, 'generation_config.json')), { bos_token_id: m.config.bosTokenId })
})

t.test('llama with Llama-3 rope scaling writes rope_scaling as transformers does', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir, ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } })
  t.same((await readJson(join(dir, 'config.json'))).rope_scaling, { factor: 8, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 64, rope_type: 'llama3' })
  t.same((await loadModelDir(dir)).config.ropeScaling, { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 })
})

t.test('qwen2: q/k/v biases, tied embeddings', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'qwen2', dir })
  const m = await loadModelDir(dir)
  t.match(m.config, { architecture: 'qwen2', attentionBias: true, tieWordEmbeddings: true })
  t.same(m.weights.get('model.layers.0.self_attn.q_proj.bias')!.shape, [64])
  t.same(m.weights.get('model.layers.0.self_attn.k_proj.bias')!.shape, [32])
  t.notOk(m.weights.has('lm_head.weight'))
  t.notOk(m.weights.has('model.layers.0.self_attn.o_proj.bias'))
})

t.test('gpt2: Conv1D [in, out] layout and transformer.* names', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'gpt2', dir })
  const m = await loadModelDir(dir)
  const shapes = Object.fromEntries([...m.weights].map(([name, w]) => [name, w.shape]))
  t.same(shapes['transformer.wte.weight'], [512, 64])
  t.same(shapes['transformer.wpe.weight'], [256, 64])
  t.same(shapes['transformer.h.0.attn.c_attn.weight'], [64, 192])
  t.same(shapes['transformer.h.0.attn.c_attn.bias'], [192])
  t.same(shapes['transformer.h.1.mlp.c_fc.weight'], [64, 256])
  t.same(shapes['transformer.h.1.mlp.c_proj.weight'], [256, 64])
  t.same(shapes['transformer.ln_f.bias'], [64])
  t.match(await readJson(join(dir, 'config.json')), { architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: 64, n_layer: 2, n_head: 4, activation_function: 'gelu_new' })
})

t.test('same seed, same bytes; different seed, different weights', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'a'), seed: 3 })
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'b'), seed: 3 })
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'c'), seed: 4 })
  for (const file of ['model.safetensors', 'tokenizer.json', 'config.json']) {
    t.ok((await readFile(join(dir, 'a', file))).equals(await readFile(join(dir, 'b', file))), `${file} identical`)
  }
  t.notOk((await readFile(join(dir, 'a', 'model.safetensors'))).equals(await readFile(join(dir, 'c', 'model.safetensors'))))
})

t.test('tokenizer.json loads in @huggingface/tokenizers: 512 unique tokens, round-trips text, specials are single ids', async (t) => {
  for (const architecture of ['llama', 'qwen2', 'gpt2'] as const) {
    const dir = t.testdir()
    await makeTinyModel({ architecture, dir })
    const tok = new Tokenizer(await readJson(join(dir, 'tokenizer.json')), await readJson(join(dir, 'tokenizer_config.json')))
    const vocab = tok.get_vocab(true)
    t.equal(vocab.size, 512, `${architecture}: vocab size`)
    t.equal(new Set(vocab.values()).size, 512, `${architecture}: ids unique`)
    const text = 'The weather in Paris is 23 degrees!\nnaïve café 😀 {"a": [1, 2]}'
    const ids = tok.encode(text, { add_special_tokens: false }).ids
    t.equal(tok.decode(ids), text, `${architecture}: round trip`)
    t.ok(ids.length < new TextEncoder().encode(text).length * 0.8, `${architecture}: merges compress (${ids.length} tokens)`)
    const im = tok.encode('<|im_start|>user<|im_end|>', { add_special_tokens: false }).ids
    t.same(im, [tok.token_to_id('<|im_start|>'), ...tok.encode('user', { add_special_tokens: false }).ids, tok.token_to_id('<|im_end|>')])
  }
})

t.test('loadModelDir reads sharded checkpoints through model.safetensors.index.json', async (t) => {
  const dir = t.testdir()
  const made = await makeTinyModel({ architecture: 'qwen2', dir, seed: 5 })
  const names = [...made.weights.keys()]
  const first = new Map(names.slice(0, 10).map((n) => [n, made.weights.get(n)!]))
  const second = new Map(names.slice(10).map((n) => [n, made.weights.get(n)!]))
  await writeSafetensorsFile(join(dir, 'model-00001-of-00002.safetensors'), first)
  await writeSafetensorsFile(join(dir, 'model-00002-of-00002.safetensors'), second)
  const weightMap = Object.fromEntries(names.map((n, i) => [n, i < 10 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']))
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }))
  await rm(join(dir, 'model.safetensors'))
  const m = await loadModelDir(dir)
  t.same([...m.weights.keys()].sort(), [...names].sort())
  t.same(Array.from(m.weights.get(names[15])!.data), Array.from(made.weights.get(names[15])!.data))
  t.type(m.chatTemplate, 'string')
})

t.test('loadModelDir normalises Hub GPT-2 names (no transformer. prefix, attn.bias buffers)', async (t) => {
  const dir = t.testdir()
  const made = await makeTinyModel({ architecture: 'gpt2', dir })
  const hubStyle = new Map([...made.weights].map(([n, w]) => [n.replace(/^transformer\./, ''), w]))
  hubStyle.set('h.0.attn.bias', { shape: [1, 1, 4, 4], data: new Float32Array(16) })
  await writeSafetensorsFile(join(dir, 'model.safetensors'), hubStyle)
  const m = await loadModelDir(dir)
  t.same([...m.weights.keys()].sort(), [...made.weights.keys()].sort())
})

t.test('missing weights are reported clearly', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'gpt2', dir })
  await rm(join(dir, 'model.safetensors'))
  await t.rejects(loadModelDir(dir), /no model.safetensors or model.safetensors.index.json/)
})

// The GGUF file itself: header, metadata, tensor names/dims/types, the Q/K permutation, Q8_0
// blocks, vocabulary checks, llama.cpp error reporting, and greedy generation.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readGgufFileInfo } from 'node-llama-cpp'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { exportGguf } from '../../src/trainer/export/gguf.ts'
import { permuteForRope } from '../../src/trainer/export/gguf-tensors.ts'
import { quantizeQ8_0 } from '../../src/trainer/export/ggml-quants.ts'
import { ggufVocabMetadata } from '../../src/trainer/export/gguf-vocab.ts'
import { halfToFloat } from '../../src/trainer/io/float16.ts'
import { llamaCppGenerate, llamaCppLogits } from '../../src/trainer/export/llama-cpp-logits.ts'
import { referenceLogits } from './helpers/reference-forward.ts'
import { argmax } from './helpers/compare-logits.ts'

const readInfo = (path: string) => readGgufFileInfo(path, { readTensorInfo: true, sourceType: 'filesystem', logWarnings: false })

t.test('llama F16 export: metadata and tensors as llama.cpp names them, dims reversed', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'm'), ropeTheta: 10000, ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } })
  const model = await loadModelDir(join(dir, 'm'))
  await exportGguf(model, join(dir, 'm.gguf'), { dtype: 'F16', name: 'tiny' })
  const info = await readInfo(join(dir, 'm.gguf'))
  t.equal(info.version, 3)
  const meta = info.metadata as any
  t.match(meta.general, { architecture: 'llama', name: 'tiny', file_type: 1 })
  t.match(meta.llama, { context_length: 256, embedding_length: 64, block_count: 2, feed_forward_length: 128, vocab_size: 512 })
  t.match(meta.llama.attention, { head_count: 4, head_count_kv: 2 })
  t.ok(Math.abs(meta.llama.attention.layer_norm_rms_epsilon - 1e-6) < 1e-12)
  t.match(meta.llama.rope, { freq_base: 10000, dimension_count: 16 })
  const tk = meta.tokenizer.ggml
  t.match(tk, { model: 'gpt2', pre: 'llama-bpe', bos_token_id: model.config.bosTokenId, add_bos_token: true })
  t.equal(tk.tokens.length, 512)
  t.equal(new Set(tk.tokens).size, 512, 'token strings unique')
  t.equal(tk.tokens[tk.bos_token_id], '<|begin_of_text|>')
  t.equal(tk.token_type[tk.bos_token_id], 3, 'special tokens are CONTROL')
  t.equal(tk.token_type[100], 1)
  t.equal(tk.merges.length, (model.tokenizerJson.model as any).merges.length)
  t.equal(meta.tokenizer.chat_template, model.chatTemplate)

  const tensors = new Map(info.fullTensorInfo!.map((x) => [x.name, x]))
  t.same(tensors.get('token_embd.weight')!.dimensions.map(Number), [64, 512], 'ne0 is the row length')
  t.same(tensors.get('blk.0.attn_k.weight')!.dimensions.map(Number), [64, 32])
  t.same(tensors.get('blk.1.ffn_down.weight')!.dimensions.map(Number), [128, 64])
  t.same(tensors.get('output.weight')!.dimensions.map(Number), [64, 512])
  t.same(tensors.get('rope_freqs.weight')!.dimensions.map(Number), [8])
  t.equal(tensors.get('blk.0.attn_q.weight')!.ggmlType, 1, '2-D weights F16')
  t.equal(tensors.get('blk.0.attn_norm.weight')!.ggmlType, 0, 'norms stay F32')
  t.equal(tensors.size, 1 + 2 * 9 + 3)
  for (const x of tensors.values()) t.equal(Number(x.fileOffset) % 32, 0, `${x.name} 32-byte aligned`)
})

t.test('gpt2 and qwen2 metadata and names', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'gpt2', dir: join(dir, 'g') })
  await exportGguf(await loadModelDir(join(dir, 'g')), join(dir, 'g.gguf'), { dtype: 'Q8_0' })
  const g = await readInfo(join(dir, 'g.gguf'))
  const gm = g.metadata as any
  t.match(gm.general, { architecture: 'gpt2', file_type: 7 })
  t.match(gm.gpt2, { context_length: 256, embedding_length: 64, feed_forward_length: 256, block_count: 2 })
  t.equal(gm.tokenizer.ggml.pre, 'gpt-2')
  const gt = new Map(g.fullTensorInfo!.map((x) => [x.name, x]))
  t.same([...gt.keys()].filter((n) => n.startsWith('blk.0.')).sort(), ['attn_norm.bias', 'attn_norm.weight', 'attn_output.bias', 'attn_output.weight', 'attn_qkv.bias', 'attn_qkv.weight', 'ffn_down.bias', 'ffn_down.weight', 'ffn_norm.bias', 'ffn_norm.weight', 'ffn_up.bias', 'ffn_up.weight'].map((n) => `blk.0.${n}`))
  t.same(gt.get('blk.0.attn_qkv.weight')!.dimensions.map(Number), [64, 192], 'Conv1D [64, 192] transposed to [192, 64]: ne = [64, 192]')
  t.same(gt.get('blk.0.ffn_up.weight')!.dimensions.map(Number), [64, 256])
  t.equal(gt.get('blk.0.ffn_up.weight')!.ggmlType, 8, 'Q8_0')
  t.ok(gt.has('position_embd.weight') && gt.has('output.weight') && gt.has('output_norm.bias'))

  await makeTinyModel({ architecture: 'qwen2', dir: join(dir, 'q') })
  await exportGguf(await loadModelDir(join(dir, 'q')), join(dir, 'q.gguf'), { dtype: 'F32' })
  const q = await readInfo(join(dir, 'q.gguf'))
  t.equal((q.metadata as any).general.architecture, 'qwen2')
  t.equal((q.metadata as any).tokenizer.ggml.pre, 'qwen2')
  const qt = new Set(q.fullTensorInfo!.map((x) => x.name))
  t.ok(qt.has('blk.0.attn_q.bias') && qt.has('blk.0.attn_k.bias') && qt.has('blk.0.attn_v.bias'))
  t.notOk(qt.has('output.weight'), 'tied: llama.cpp reuses token_embd')
})

t.test('permuteForRope = reshape(n_head, 2, d/2, in).swapaxes(1, 2)', async (t) => {
  // 2 heads of head_dim 4, one column: rows are [h0: a0 a1 b0 b1, h1: ...] -> [a0 b0 a1 b1, ...]
  const rows = Float32Array.from([0, 1, 2, 3, 10, 11, 12, 13])
  t.same(Array.from(permuteForRope({ shape: [8, 1], data: rows }, 2).data), [0, 2, 1, 3, 10, 12, 11, 13])
  const wide = Float32Array.from({ length: 16 }, (_, i) => i) // [4 rows, 4 cols], one head
  t.same(Array.from(permuteForRope({ shape: [4, 4], data: wide }, 1).data), [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15])
})

t.test('Q8_0 blocks: f16 scale absmax/127 and rounded int8, error within half a step', async (t) => {
  const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * (i < 32 ? 1 : 0.01))
  const q = quantizeQ8_0(values)
  t.equal(q.length, 2 * 34)
  const view = new DataView(q.buffer)
  for (let b = 0; b < 2; b++) {
    const d = halfToFloat(view.getUint16(b * 34, true))
    let amax = 0
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[b * 32 + j]))
    t.ok(Math.abs(d - amax / 127) <= (amax / 127) * 1e-3, `block ${b} scale`)
    for (let j = 0; j < 32; j++) {
      const back = view.getInt8(b * 34 + 2 + j) * d
      // Half a quantization step, plus the f16 rounding of the scale times |q| <= 127.
      const bound = 0.5 * d + 127 * Math.abs(d - amax / 127)
      if (Math.abs(back - values[b * 32 + j]) > bound * 1.0001) t.fail(`block ${b} value ${j}: ${back} vs ${values[b * 32 + j]}`)
    }
  }
  t.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/)
})

t.test('duplicate token strings and out-of-range ids are refused before llama.cpp sees them', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'qwen2', dir })
  const model = await loadModelDir(dir)
  const dup = structuredClone(model.tokenizerJson) as any
  dup.added_tokens[0].content = 'Ġthe'
  t.throws(() => ggufVocabMetadata(model.config, dup, model.tokenizerConfig, null), /token "Ġthe" appears at ids \d+ and \d+/)
  t.throws(() => ggufVocabMetadata({ ...model.config, vocabSize: 500 }, model.tokenizerJson, model.tokenizerConfig, null), /beyond the model's vocab_size 500/)
})

t.test('a malformed GGUF fails in the child with llama.cpp\'s own explanation, not a crash of ours', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'm'), numLayers: 1 })
  const model = await loadModelDir(join(dir, 'm'))
  model.weights.delete('model.layers.0.mlp.up_proj.weight')
  await exportGguf(model, join(dir, 'missing.gguf'), { dtype: 'F32' })
  await writeFile(join(dir, 'garbage.gguf'), 'GGUF this is not a model')
  const missing = await llamaCppLogits(join(dir, 'missing.gguf'), [1, 2]).then(() => null, (e: Error) => e.message)
  t.match(missing, /blk\.0\.ffn_up\.weight/, 'names the missing tensor')
  const garbage = await llamaCppLogits(join(dir, 'garbage.gguf'), [1, 2]).then(() => null, (e: Error) => e.message)
  t.match(garbage, /llama\.cpp failed \(exit code 1\): .*garbage\.gguf: unsupported GGUF version 1768453152/)
})

t.test('greedy generation in llama.cpp follows the reference argmax chain', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'm'), seed: 21, initStd: 0.1 })
  const model = await loadModelDir(join(dir, 'm'))
  await exportGguf(model, join(dir, 'm.gguf'), { dtype: 'F32' })
  const prompt = [model.config.bosTokenId!, 40, 41, 42]
  const generated = await llamaCppGenerate(join(dir, 'm.gguf'), prompt, 8)
  const expected: number[] = []
  const sequence = [...prompt]
  // llama.cpp ends generation at EOS and at the end-of-turn tokens it recognises by their text.
  const addedIds = new Map((model.tokenizerJson.added_tokens as { id: number; content: string }[]).map((x) => [x.content, x.id]))
  const eog = new Set([model.config.eosTokenId, addedIds.get('<|endoftext|>'), addedIds.get('<|im_end|>')])
  for (let i = 0; i < 8; i++) {
    const next = argmax(referenceLogits(model.config, model.weights, sequence).at(-1)!)
    if (eog.has(next)) break
    expected.push(next)
    sequence.push(next)
  }
  t.ok(expected.length > 0)
  t.same(generated, expected)
})

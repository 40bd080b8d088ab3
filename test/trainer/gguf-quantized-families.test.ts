// Q4_0 and Q4_K_M exports of Phi-3 (fused attn_qkv / ffn_up) and Gemma-2 (tied head, sandwich
// norms) in llama.cpp: 256-wide tiny models, so rows are whole K-quant super-blocks. Each file
// loads, holds llama-quantize's type mix (attn_qkv counts as attn_v for Q4_K_M's extra bits; a
// tied token_embd gets the output's Q6_K), and its logits follow the F16 file's as closely as a
// Llama's of the same size do (the first row, the yardstick).
import { join } from 'node:path'
import t from 'tap'
import { readGgufFileInfo } from 'node-llama-cpp'
import { exportGguf } from '../../src/trainer/export/gguf.ts'
import { llamaCppLogitsMany } from '../../src/trainer/export/llama-cpp-logits.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { makeTinyModel, type TinyModelOptions } from '../../src/trainer/tiny/make-tiny-model.ts'
import { compareLogits, sampleTokens } from './helpers/compare-logits.ts'

const FAMILIES: { label: string; options: Omit<TinyModelOptions, 'dir'>; types: Record<string, number> }[] = [
  // ggml types: 0 F32, 12 Q4_K, 14 Q6_K. Two layers: use_more_bits picks layer 1 (the last eighth).
  { label: 'llama', options: { architecture: 'llama' }, types: {} },
  { label: 'phi3', options: { architecture: 'phi3' }, types: { 'output.weight': 14, 'token_embd.weight': 12, 'blk.0.attn_qkv.weight': 12, 'blk.1.attn_qkv.weight': 14, 'blk.1.ffn_down.weight': 14, 'blk.0.ffn_up.weight': 12 } },
  { label: 'gemma2', options: { architecture: 'gemma2', slidingWindow: 8 }, types: { 'token_embd.weight': 14, 'blk.1.attn_v.weight': 14, 'blk.0.attn_q.weight': 12, 'blk.0.post_ffw_norm.weight': 0 } },
]
const POSITIONS = 20

t.test('Q4_0 and Q4_K_M phi3 / gemma2 GGUFs load in llama.cpp, with llama-quantize\'s mix and logits near F16\'s', async (t) => {
  const dir = t.testdir()
  const jobs: { modelPath: string; tokens: number[] }[] = []
  for (const f of FAMILIES) {
    await makeTinyModel({ ...f.options, dir: join(dir, f.label), hiddenSize: 256, intermediateSize: 512, numHeads: 4, seed: 8, initStd: 0.05 })
    const model = await loadModelDir(join(dir, f.label))
    for (const dtype of ['F16', 'Q4_0', 'Q4_K_M'] as const) {
      const path = join(dir, `${f.label}-${dtype}.gguf`)
      await exportGguf(model, path, { dtype })
      jobs.push({ modelPath: path, tokens: sampleTokens(POSITIONS, model.config.vocabSize) })
    }
    if (Object.keys(f.types).length === 0) continue
    const info = await readGgufFileInfo(join(dir, `${f.label}-Q4_K_M.gguf`), { readTensorInfo: true, sourceType: 'filesystem', logWarnings: false })
    const typeOf = Object.fromEntries(info.fullTensorInfo!.map((x) => [x.name, x.ggmlType]))
    t.same(Object.fromEntries(Object.keys(f.types).map((name) => [name, typeOf[name]])), f.types, `${f.label} Q4_K_M: the tensor types llama-quantize picks`)
  }
  const logits = await llamaCppLogitsMany(jobs)
  // Random weights quantise as badly as they do (4 bits of noise): what matters is that each
  // family's files are as good as the Llama's of the same size and type, and follow F16 closely.
  const errorOf = (i: number, k: number) => compareLogits(logits[i * 3 + 1 + k], logits[i * 3]).maxAbsDiff
  FAMILIES.forEach((f, i) => {
    for (const [k, dtype] of (['Q4_0', 'Q4_K_M'] as const).entries()) {
      const quantised = logits[i * 3 + 1 + k].flatMap((row) => [...row])
      const f16 = logits[i * 3].flatMap((row) => [...row])
      const r = correlation(quantised, f16)
      const ratio = errorOf(i, k) / errorOf(0, k)
      t.ok(r > 0.9, `${f.label} ${dtype}: correlation with F16's logits ${r.toFixed(4)} > 0.9`)
      if (i > 0) t.ok(ratio < 1.5, `${f.label} ${dtype}: max |Δ| to F16 ${errorOf(i, k).toFixed(3)}, ×${ratio.toFixed(2)} the Llama's (< ×1.5)`)
    }
  })
})

function correlation(a: number[], b: number[]): number {
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length
  const [ma, mb] = [mean(a), mean(b)]
  let [sab, saa, sbb] = [0, 0, 0]
  a.forEach((v, i) => { sab += (v - ma) * (b[i] - mb); saa += (v - ma) ** 2; sbb += (b[i] - mb) ** 2 })
  return sab / Math.sqrt(saa * sbb)
}

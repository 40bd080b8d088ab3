// PEFT adapter files, merging, and the merged model: merged logits must equal base + adapter logits.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostTensor, LoraAdapter, ModelConfig, HostTensors } from '../../src/trainer/model/types.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { readSafetensorsFile } from '../../src/trainer/io/safetensors.ts'
import { readPeftAdapter, writePeftAdapter } from '../../src/trainer/export/peft-adapter.ts'
import { mergeLora } from '../../src/trainer/export/merge-lora.ts'
import { writeMergedModel } from '../../src/trainer/export/merged-model.ts'
import { exportGguf } from '../../src/trainer/export/gguf.ts'
import { llamaCppLogits } from '../../src/trainer/export/llama-cpp-logits.ts'
import { seededRandom } from '../../src/trainer/tiny/seeded-random.ts'
import { referenceLogits } from './helpers/reference-forward.ts'
import { compareLogits, sampleTokens } from './helpers/compare-logits.ts'

const RANK = 4
const ALPHA = 8

function randomMatrix(rows: number, cols: number, seed: number, std: number): HostTensor {
  const random = seededRandom(seed)
  return { shape: [rows, cols], data: Float32Array.from({ length: rows * cols }, () => std * random.normal()) }
}

/** An adapter with nonzero B (a freshly initialised one has B = 0 and would prove nothing). */
function randomAdapter(weights: HostTensors, modules: string[], conv1d: boolean): LoraAdapter {
  const adapter: LoraAdapter = { rank: RANK, alpha: ALPHA, dropout: 0.05, targetModules: [...new Set(modules.map((m) => m.split('.').at(-1)!))], modules: new Map() }
  modules.forEach((module, i) => {
    const [rows, cols] = weights.get(`${module}.weight`)!.shape
    const [outDim, inDim] = conv1d ? [cols, rows] : [rows, cols]
    adapter.modules.set(module, { a: randomMatrix(RANK, inDim, 100 + i, 0.2), b: randomMatrix(outDim, RANK, 200 + i, 0.2) })
  })
  return adapter
}

/** (alpha/r)·B·A at [o, i], straight from the definition. */
function deltaAt(adapter: LoraAdapter, module: string, o: number, i: number): number {
  const { a, b } = adapter.modules.get(module)!
  const inDim = a.shape[1]
  let s = 0
  for (let k = 0; k < RANK; k++) s += b.data[o * RANK + k] * a.data[k * inDim + i]
  return (ALPHA / RANK) * s
}

function reference(config: ModelConfig, weights: HostTensors, tokens: number[], adapter?: LoraAdapter) {
  return referenceLogits(config, weights, tokens, adapter ? { lora: { scale: adapter.alpha / adapter.rank, modules: adapter.modules } } : {})
}

t.test('llama: PEFT files, merge = base + (alpha/r)·B·A, merged model = base + adapter (reference and llama.cpp)', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'base'), seed: 11, initStd: 0.1 })
  const base = await loadModelDir(join(dir, 'base'))
  const modules = [0, 1].flatMap((l) => ['self_attn.q_proj', 'self_attn.v_proj', 'mlp.down_proj'].map((m) => `model.layers.${l}.${m}`))
  const adapter = randomAdapter(base.weights, modules, false)

  await writePeftAdapter(join(dir, 'adapter'), base.config, adapter, 'tiny/llama')
  const config = JSON.parse(await readFile(join(dir, 'adapter', 'adapter_config.json'), 'utf8'))
  t.match(config, { peft_type: 'LORA', r: RANK, lora_alpha: ALPHA, lora_dropout: 0.05, task_type: 'CAUSAL_LM', bias: 'none', fan_in_fan_out: false, base_model_name_or_path: 'tiny/llama' })
  t.same(config.target_modules, ['down_proj', 'q_proj', 'v_proj'])
  const { tensors } = await readSafetensorsFile(join(dir, 'adapter', 'adapter_model.safetensors'))
  t.same(tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')!.shape, [RANK, 64])
  t.same(tensors.get('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight')!.shape, [32, RANK])
  t.same(tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')!.shape, [RANK, 128])
  t.equal(tensors.size, modules.length * 2)
  const reread = await readPeftAdapter(join(dir, 'adapter'))
  t.same(Array.from(reread.modules.get(modules[3])!.b.data), Array.from(adapter.modules.get(modules[3])!.b.data), 'adapter round-trips')

  const merged = mergeLora(base.config, base.weights, reread)
  const name = 'model.layers.1.self_attn.v_proj.weight'
  const [rows, cols] = base.weights.get(name)!.shape
  let maxErr = 0
  for (let o = 0; o < rows; o++) for (let i = 0; i < cols; i++) {
    maxErr = Math.max(maxErr, Math.abs(merged.get(name)!.data[o * cols + i] - (base.weights.get(name)!.data[o * cols + i] + deltaAt(adapter, 'model.layers.1.self_attn.v_proj', o, i))))
  }
  t.ok(maxErr < 1e-6, `merged weight = W + (alpha/r)·B·A (max err ${maxErr})`)
  t.equal(merged.get('model.layers.0.self_attn.k_proj.weight'), base.weights.get('model.layers.0.self_attn.k_proj.weight'), 'untargeted weights untouched')

  const copied = await writeMergedModel(join(dir, 'merged'), base.config, merged, join(dir, 'base'))
  t.same(copied, ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json'])
  const reloaded = await loadModelDir(join(dir, 'merged'))
  t.same(reloaded.config.raw, base.config.raw, 'config.json carried over')
  const tokens = sampleTokens(16, base.config.vocabSize)
  const withAdapter = reference(base.config, base.weights, tokens, adapter)
  const mergedLogits = compareLogits(reference(reloaded.config, reloaded.weights, tokens), withAdapter)
  t.ok(mergedLogits.maxAbsDiff < 1e-4, `merged model logits = base + adapter logits (max diff ${mergedLogits.maxAbsDiff})`)
  const unchanged = compareLogits(reference(base.config, base.weights, tokens), withAdapter)
  t.ok(unchanged.maxAbsDiff > 1e-2, `the adapter really changes the logits (${unchanged.maxAbsDiff})`)

  await exportGguf(reloaded, join(dir, 'merged.gguf'), { dtype: 'F32' })
  const cpp = compareLogits(await llamaCppLogits(join(dir, 'merged.gguf'), tokens), withAdapter)
  t.ok(cpp.maxAbsDiff < 1e-4, `llama.cpp on the merged GGUF = base + adapter (max diff ${cpp.maxAbsDiff})`)
})

t.test('gpt2: Conv1D adapter uses fan_in_fan_out and merges transposed', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'gpt2', dir: join(dir, 'base'), seed: 12, initStd: 0.1 })
  const base = await loadModelDir(join(dir, 'base'))
  const modules = ['transformer.h.0.attn.c_attn', 'transformer.h.1.mlp.c_fc']
  const adapter = randomAdapter(base.weights, modules, true)
  t.same(adapter.modules.get(modules[0])!.a.shape, [RANK, 64], 'A is [r, in]')
  t.same(adapter.modules.get(modules[0])!.b.shape, [192, RANK], 'B is [out, r]')
  await writePeftAdapter(join(dir, 'adapter'), base.config, adapter, 'tiny/gpt2')
  t.equal(JSON.parse(await readFile(join(dir, 'adapter', 'adapter_config.json'), 'utf8')).fan_in_fan_out, true)
  const merged = mergeLora(base.config, base.weights, await readPeftAdapter(join(dir, 'adapter')))
  const w = 'transformer.h.0.attn.c_attn.weight'
  // Conv1D weight is [in, out]: entry (i, o) gains delta (o, i).
  const i = 5, o = 130
  t.ok(Math.abs(merged.get(w)!.data[i * 192 + o] - (base.weights.get(w)!.data[i * 192 + o] + deltaAt(adapter, modules[0], o, i))) < 1e-6)
  const tokens = sampleTokens(16, base.config.vocabSize)
  const diff = compareLogits(reference(base.config, merged, tokens), reference(base.config, base.weights, tokens, adapter))
  t.ok(diff.maxAbsDiff < 1e-4, `merged = base + adapter (max diff ${diff.maxAbsDiff})`)
})

t.test('merging refuses an adapter whose shapes do not fit the base', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir, numLayers: 1 })
  const base = await loadModelDir(dir)
  const bad: LoraAdapter = { rank: RANK, alpha: ALPHA, dropout: 0, targetModules: ['k_proj'], modules: new Map([['model.layers.0.self_attn.k_proj', { a: randomMatrix(RANK, 64, 1, 1), b: randomMatrix(64, RANK, 2, 1) }]]) }
  t.throws(() => mergeLora(base.config, base.weights, bad), /update is \[64,64\] but the weight is \[32,64\]/)
})

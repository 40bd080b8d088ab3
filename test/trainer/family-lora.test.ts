// Phi-3 and Gemma-2 fine-tuned for real: the train CLI runs LoRA on a tiny generated
// Phi3ForCausalLM (PEFT's Phi-3 target names: qkv_proj, o_proj, gate_up_proj, down_proj) and
// Gemma2ForCausalLM (Llama's names), and what it exports agrees with itself: the adapter's tensors
// are PEFT's names and shapes, the merged model equals base + adapter, and llama.cpp on the merged
// GGUF computes what the trainer computes with the adapter on.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { llamaCppLogits } from '../../src/trainer/export/llama-cpp-logits.ts'
import { mergeLora } from '../../src/trainer/export/merge-lora.ts'
import { writeMergedModel } from '../../src/trainer/export/merged-model.ts'
import { readPeftAdapter } from '../../src/trainer/export/peft-adapter.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { readSafetensorsFile } from '../../src/trainer/io/safetensors.ts'
import { forwardLogits } from '../../src/trainer/model/forward.ts'
import { LoraAdapters } from '../../src/trainer/model/lora.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { makeTinyModel, type TinyModelOptions } from '../../src/trainer/tiny/make-tiny-model.ts'
import { compareLogits, sampleTokens } from './helpers/compare-logits.ts'
import { referenceLogits } from './helpers/reference-forward.ts'

const CLI = join(import.meta.dirname, '../../src/cli/train.ts')

// hidden 32, 4 heads of 8, 2 kv heads, intermediate 64, 2 layers.
const FAMILIES: { label: string; options: Omit<TinyModelOptions, 'dir'>; targets: string[]; shapes: [string, number[]][]; ggmlGelu: boolean }[] = [
  {
    label: 'phi3: LoRA on the fused projections',
    options: { architecture: 'phi3' },
    targets: ['down_proj', 'gate_up_proj', 'o_proj', 'qkv_proj'],
    // qkv_proj is (4 + 2·2)·8 = 64 wide, gate_up_proj 2·64.
    shapes: [['layers.1.self_attn.qkv_proj.lora_A', [-1, 32]], ['layers.1.self_attn.qkv_proj.lora_B', [64, -1]], ['layers.0.mlp.gate_up_proj.lora_B', [128, -1]], ['layers.0.mlp.down_proj.lora_A', [-1, 64]]],
    ggmlGelu: false,
  },
  {
    label: 'gemma2: LoRA under soft-caps and the sliding window',
    options: { architecture: 'gemma2', slidingWindow: 4, softcaps: { attention: 1, final: 2 } },
    targets: ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'],
    shapes: [['layers.1.self_attn.q_proj.lora_B', [32, -1]], ['layers.0.self_attn.k_proj.lora_B', [16, -1]], ['layers.0.mlp.down_proj.lora_A', [-1, 64]]],
    // llama.cpp's GELU is a half-precision table: compare it with a reference that uses the same.
    ggmlGelu: true,
  },
]

for (const family of FAMILIES) t.test(`${family.label}: trains, exports PEFT names, and merged = base + adapter`, async (t) => {
  const dir = t.testdir()
  const baseDir = join(dir, 'base')
  await makeTinyModel({ ...family.options, dir: baseDir, hiddenSize: 32, numLayers: 2, vocabSize: 384, seed: 3, initStd: 0.1 })
  const sft = Array.from({ length: 12 }, (_, i) => JSON.stringify({ messages: [
    { role: 'user', content: `say ${i}` }, { role: 'assistant', content: `number ${i}` }] })).join('\n')
  await writeFile(join(dir, 'sft.jsonl'), sft)
  const run = spawnSync(process.execPath, [CLI, '--model', baseDir, '--data', join(dir, 'sft.jsonl'), '--out', join(dir, 'out'),
    '--method', 'lora', '--epochs', '3', '--batch-size', '4', '--lr', '0.01', '--dropout', '0', '--backend', 'wasm', '--gguf', 'F32'], { encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  const steps = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; trainLoss: number }).filter((l) => l.type === 'step')
  t.equal(steps.length, 9, '3 batches × 3 epochs')
  const epochLoss = (e: number) => steps.slice(3 * e, 3 * e + 3).reduce((sum, s) => sum + s.trainLoss, 0) / 3
  t.ok(epochLoss(2) < epochLoss(0), `the mean training loss falls from the first epoch to the last (${epochLoss(0)} → ${epochLoss(2)})`)

  const adapterDir = join(dir, 'out', 'adapter')
  const config = JSON.parse(await readFile(join(adapterDir, 'adapter_config.json'), 'utf8'))
  t.same(config.target_modules, family.targets, 'every projection, by PEFT\'s names for the architecture')
  t.equal(config.fan_in_fan_out, false)
  const { tensors } = await readSafetensorsFile(join(adapterDir, 'adapter_model.safetensors'))
  const r = config.r as number
  for (const [name, shape] of family.shapes) {
    t.same(tensors.get(`base_model.model.model.${name}.weight`)?.shape, shape.map((d) => (d === -1 ? r : d)), name)
  }
  t.equal(tensors.size, 2 * family.targets.length * 2, `A and B for ${family.targets.length} projections in 2 layers`)

  const base = await loadModelDir(baseDir)
  const adapter = await readPeftAdapter(adapterDir)
  const tokens = sampleTokens(24, base.config.vocabSize)
  const withAdapter = referenceLogits(base.config, base.weights, tokens, { lora: { scale: adapter.alpha / adapter.rank, modules: adapter.modules } })
  const moved = compareLogits(referenceLogits(base.config, base.weights, tokens), withAdapter)
  t.ok(moved.maxAbsDiff > 1e-2, `training changed the model (${moved.maxAbsDiff})`)

  await writeMergedModel(join(dir, 'merged'), base.config, mergeLora(base.config, base.weights, adapter), baseDir)
  const merged = await loadModelDir(join(dir, 'merged'))
  const mergedDiff = compareLogits(referenceLogits(merged.config, merged.weights, tokens), withAdapter)
  t.ok(mergedDiff.maxAbsDiff < 1e-4, `merged model = base + adapter (max diff ${mergedDiff.maxAbsDiff})`)

  const cppReference = family.ggmlGelu ? referenceLogits(base.config, base.weights, tokens, { lora: { scale: adapter.alpha / adapter.rank, modules: adapter.modules }, ggmlGelu: true }) : withAdapter
  const cpp = compareLogits(await llamaCppLogits(join(dir, 'out', 'model-f32.gguf'), tokens), cppReference)
  t.ok(cpp.maxAbsDiff < 1e-4, `llama.cpp on the exported GGUF = base + adapter (max diff ${cpp.maxAbsDiff})`)

  // The trainer's own forward pass with the adapter loaded (unmerged) agrees too.
  await selectBackend('cpu')
  const weights = ModelWeights.fromHost(base.config, base.weights, { trainable: false })
  const lora = LoraAdapters.create(weights, { rank: adapter.rank, alpha: adapter.alpha, dropout: 0, targetModules: adapter.targetModules }, Random.fromSeed(1))
  lora.assign(adapter)
  t.teardown(() => { lora.dispose(); weights.dispose() })
  const logits = forwardLogits(weights, { ids: Int32Array.from(tokens), attentionMask: new Int32Array(tokens.length).fill(1), batchSize: 1, seqLen: tokens.length }, { lora })
  const values = (await logits.data()) as Float32Array
  logits.dispose()
  const V = base.config.vocabSize
  const trainer = tokens.map((_, i) => values.subarray(i * V, (i + 1) * V))
  const trainerDiff = compareLogits(trainer, withAdapter)
  t.ok(trainerDiff.maxAbsDiff < 1e-4, `trainer forward with the adapter = reference (max diff ${trainerDiff.maxAbsDiff})`)
})

t.test('phi3: a LoRA target Phi-3 does not have is refused by name', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'phi3', dir, hiddenSize: 32, numLayers: 1, vocabSize: 384 })
  await selectBackend('cpu')
  const model = await loadModelDir(dir)
  const weights = ModelWeights.fromHost(model.config, model.weights, { trainable: false })
  t.teardown(() => weights.dispose())
  t.throws(() => LoraAdapters.create(weights, { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj'] }, Random.fromSeed(1)),
    /LoRA target "q_proj" is not a projection of phi3 \(expected one of qkv_proj, o_proj, gate_up_proj, down_proj\)/)
})

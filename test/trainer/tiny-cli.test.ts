import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'

const run = promisify(execFile)
const CLI = join(import.meta.dirname, '../../src/cli/make-tiny-model.ts')

t.test('the CLI writes a loadable model with the requested dims', async (t) => {
  const out = join(t.testdir(), 'm')
  const { stdout } = await run(process.execPath, [CLI, '--arch', 'qwen2', '--out', out, '--hidden', '32', '--layers', '1', '--heads', '2', '--kv-heads', '1', '--vocab', '300', '--init-std', '0.05'])
  t.match(stdout, /wrote qwen2 model \(\d+ parameters\)/)
  const m = await loadModelDir(out)
  t.match(m.config, { architecture: 'qwen2', hiddenSize: 32, numLayers: 1, numHeads: 2, numKvHeads: 1, vocabSize: 300 })
  t.equal(m.config.raw.initializer_range, 0.05)
})

t.test('the CLI refuses an unknown architecture', async (t) => {
  await t.rejects(run(process.execPath, [CLI, '--arch', 'bert', '--out', t.testdir()]), /usage: make-tiny-model --arch llama\|mistral\|qwen2\|phi3\|gemma2\|gpt2/)
})

t.test('the CLI writes Mistral with a sliding window, Phi-3 and Gemma-2, SentencePiece tokenizers by default', async (t) => {
  const dir = t.testdir()
  await run(process.execPath, [CLI, '--arch', 'mistral', '--out', join(dir, 'mistral'), '--sliding-window', '16'])
  const mistral = await loadModelDir(join(dir, 'mistral'))
  t.match(mistral.config, { architecture: 'llama', hfArchitecture: 'MistralForCausalLM', slidingWindow: 16 })
  t.match(mistral.config.raw, { model_type: 'mistral', sliding_window: 16 })
  t.equal((mistral.tokenizerJson.model as { byte_fallback?: boolean }).byte_fallback, true)
  await run(process.execPath, [CLI, '--arch', 'phi3', '--out', join(dir, 'phi3')])
  const phi3 = await loadModelDir(join(dir, 'phi3'))
  t.match(phi3.config, { architecture: 'phi3', hfArchitecture: 'Phi3ForCausalLM', slidingWindow: null, tieWordEmbeddings: false })
  t.ok(phi3.weights.has('model.layers.0.self_attn.qkv_proj.weight') && phi3.weights.has('model.layers.0.mlp.gate_up_proj.weight'), 'fused projections')
  t.notOk(phi3.weights.has('model.layers.0.self_attn.q_proj.weight'))
  await run(process.execPath, [CLI, '--arch', 'gemma2', '--out', join(dir, 'gemma2'), '--sliding-window', '8'])
  const gemma2 = await loadModelDir(join(dir, 'gemma2'))
  t.match(gemma2.config, { architecture: 'gemma2', hfArchitecture: 'Gemma2ForCausalLM', slidingWindow: 8, tieWordEmbeddings: true, gemma2: { attnLogitSoftcap: 50, finalLogitSoftcap: 30 } })
  t.ok(gemma2.weights.has('model.layers.1.pre_feedforward_layernorm.weight') && gemma2.weights.has('model.layers.1.post_feedforward_layernorm.weight'), 'the sandwich norms')
  t.notOk(gemma2.weights.has('lm_head.weight'), 'tied')
})

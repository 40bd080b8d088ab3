// Gradients: LoRA gradients against central finite differences (cpu, float32), and full
// fine-tuning gradients — embedding included, whose gather gradient needs our
// UnsortedSegmentSum kernel on wasm — agreeing between wasm and cpu.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { LoraAdapters } from '../../src/trainer/model/lora.ts'
import { Random } from '../../src/trainer/model/random.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import { variableKey } from '../../src/trainer/model/variable-names.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { sftLoss } from '../../src/trainer/train/sft-loss.ts'
import { selectTargets } from '../../src/trainer/train/targets.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const batch = batchOf([[3, 17, 5, 60, 22, 9, 41, 8], [7, 7, 31, 4, 55, 12]], { lossFrom: [3, 2] })
const targets = selectTargets(batch)

function lossOf(weights: ModelWeights, lora: LoraAdapters | null): tf.Scalar {
  const r = sftLoss(weights, lora, batch, targets, { normalizer: targets.rows.length, dropoutSeed: null })
  r.correct.dispose()
  return r.loss
}

async function scalar(f: () => tf.Scalar): Promise<number> {
  const s = tf.tidy(f)
  const v = (await s.data())[0]
  s.dispose()
  return v
}

const LORA_TARGETS = { llama: ['q_proj', 'v_proj', 'down_proj'], phi3: ['qkv_proj', 'gate_up_proj'], gemma2: ['q_proj', 'v_proj', 'down_proj'], gpt2: ['c_attn', 'c_fc'] }

// Gemma-2's fixture soft-caps attention scores and logits hard enough for the caps' gradients to matter.
for (const arch of ['llama', 'phi3', 'gemma2', 'gpt2'] as const) {
  t.test(`${arch}: LoRA gradients match finite differences`, async (t) => {
    await selectBackend('cpu')
    const config: ModelConfig = tinyConfig(arch)
    const weights = ModelWeights.fromHost(config, randomWeights(config, 5, 0.2), { trainable: false })
    const targetsModules = LORA_TARGETS[arch]
    const lora = LoraAdapters.create(weights, { rank: 4, alpha: 8, dropout: 0, targetModules: targetsModules }, Random.fromSeed(1))
    // B starts at zero (so A's gradient would be zero): give it values to test both.
    const rng = Random.fromSeed(9)
    for (const { b } of lora.pairs.values()) {
      const values = Float32Array.from({ length: b.size }, () => rng.uniform(-0.3, 0.3))
      const fresh = tf.tensor(values, b.shape)
      b.assign(fresh)
      fresh.dispose()
    }
    const vars = lora.variables()
    const { value, grads } = tf.variableGrads(() => lossOf(weights, lora), vars)
    value.dispose()
    const eps = 1e-2
    let checked = 0
    for (const v of vars) {
      const g = (await grads[v.name].data()) as Float32Array
      // A few coordinates per tensor, including the largest-gradient one.
      let argmax = 0
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[argmax])) argmax = i
      for (const i of [argmax, Math.floor(g.length / 3), g.length - 1]) {
        const base = (await v.data()) as Float32Array
        const at = (delta: number) => {
          const shifted = base.slice()
          shifted[i] += delta
          const tt = tf.tensor(shifted, v.shape)
          v.assign(tt)
          tt.dispose()
          return scalar(() => lossOf(weights, lora))
        }
        const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps)
        const restore = tf.tensor(base, v.shape)
        v.assign(restore)
        restore.dispose()
        const ok = Math.abs(fd - g[i]) <= 2e-2 * Math.abs(g[i]) + 2e-4
        if (!ok) t.fail(`${variableKey(v.name)}[${i}]: analytic ${g[i]} vs finite difference ${fd}`)
        checked++
      }
    }
    const largest = Math.max(...(await Promise.all(vars.map(async (v) => Math.max(...((await grads[v.name].data()) as Float32Array).map(Math.abs))))))
    t.ok(largest > 1e-3, `gradients are not vanishingly small (largest ${largest})`)
    t.equal(checked, vars.length * 3, `checked ${checked} coordinates`)
    tf.dispose(Object.values(grads))
    lora.dispose()
    weights.dispose()
  })
}

// Both tied: the embedding gets gradient from the lookup and the head (Gemma-2's soft-capped).
for (const arch of ['qwen2', 'gemma2'] as const) t.test(`${arch} full fine-tuning: every gradient, embedding included, agrees between wasm and cpu; embedding matches finite differences`, async (t) => {
  const config = tinyConfig(arch)
  const gradsOn = async (backend: 'cpu' | 'wasm') => {
    await selectBackend(backend)
    const weights = ModelWeights.fromHost(config, randomWeights(config, 5, 0.2), { trainable: true })
    const { value, grads } = tf.variableGrads(() => lossOf(weights, null), weights.variables())
    const out = new Map<string, Float32Array>()
    for (const [name, g] of Object.entries(grads)) out.set(variableKey(name), (await g.data()) as Float32Array)
    tf.dispose([value, ...Object.values(grads)])
    return { out, weights }
  }
  const cpu = await gradsOn('cpu')
  const wasm = await gradsOn('wasm')
  t.equal(wasm.out.size, cpu.out.size, 'same set of gradients')
  t.ok(cpu.out.has('w/model.embed_tokens.weight'), 'the embedding has a gradient')
  let worst = 0
  for (const [name, g] of cpu.out) {
    const w = wasm.out.get(name)!
    let scale = 1e-6
    for (const x of g) scale = Math.max(scale, Math.abs(x))
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]) / scale)
  }
  t.ok(worst < 1e-4, `wasm and cpu gradients agree (worst error relative to the tensor's largest entry: ${worst.toExponential(2)})`)
  // An embedding row of a token that appears only as input gets gradient only via the lookup; a
  // token never seen gets gradient only via the (tied) head. Check both against differences.
  wasm.weights.dispose()
  await selectBackend('cpu')
  const emb = cpu.weights.get('model.embed_tokens.weight') as tf.Variable
  const g = cpu.out.get('w/model.embed_tokens.weight')!
  const D = config.hiddenSize
  const base = (await emb.data()) as Float32Array
  for (const [token, dim] of [[3, 5], [60, 1], [63, 7]]) {
    const i = token * D + dim
    const at = async (delta: number) => {
      const shifted = base.slice()
      shifted[i] += delta
      const tt = tf.tensor(shifted, emb.shape)
      emb.assign(tt)
      tt.dispose()
      return scalar(() => lossOf(cpu.weights, null))
    }
    const fd = ((await at(1e-2)) - (await at(-1e-2))) / 2e-2
    t.ok(Math.abs(fd - g[i]) <= 2e-2 * Math.abs(g[i]) + 2e-4, `embedding[${token}, ${dim}]: analytic ${g[i]} vs finite difference ${fd}`)
  }
  cpu.weights.dispose()
})

// QLoRA on Phi-3 (fused qkv_proj / gate_up_proj held quantised) and Gemma-2: the quantised base's
// logits, with a LoRA adapter on, equal those of a plain base built from its dequantised weights
// (and differ from the f32 base's: the projections really are quantised).
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { forwardLogits } from '../../src/trainer/model/forward.ts'
import { defaultLoraTargets, LoraAdapters } from '../../src/trainer/model/lora.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const batch = batchOf([[3, 17, 5, 60, 22, 9, 41, 8, 13, 2], [7, 7, 31, 4, 55, 12]])

async function logits(weights: ModelWeights, lora: LoraAdapters): Promise<Float32Array> {
  const out = forwardLogits(weights, batch, { lora })
  const values = (await out.data()) as Float32Array
  out.dispose()
  return values
}

for (const arch of ['phi3', 'gemma2'] as const) {
  for (const bits of [8, 4] as const) {
    t.test(`${arch} QLoRA-${bits}: the quantised base with an adapter = the dequantised base with the same adapter`, async (t) => {
      await selectBackend('cpu')
      const config = tinyConfig(arch, { slidingWindow: 4 })
      const quantised = ModelWeights.fromHost(config, randomWeights(config, 3, 0.2), { trainable: false, quantise: bits })
      const expected = arch === 'phi3' ? ['model.layers.0.self_attn.qkv_proj.weight', 'model.layers.1.mlp.gate_up_proj.weight'] : ['model.layers.0.self_attn.q_proj.weight', 'model.layers.1.mlp.down_proj.weight']
      t.ok(expected.every((name) => quantised.quantised.has(name)), `${expected.join(', ')} are held quantised`)
      const plain = ModelWeights.fromHost(config, await quantised.toHost(), { trainable: false })
      const make = (weights: ModelWeights) => {
        const lora = LoraAdapters.create(weights, { rank: 4, alpha: 8, dropout: 0, targetModules: defaultLoraTargets(config) }, Random.fromSeed(1))
        // Nonzero B, the same in both, so the adapter takes part.
        const rng = Random.fromSeed(2)
        for (const { b } of lora.pairs.values()) b.assign(tf.tidy(() => tf.tensor(Float32Array.from({ length: b.size }, () => rng.uniform(-0.3, 0.3)), b.shape)))
        return lora
      }
      const [qLora, pLora] = [make(quantised), make(plain)]
      const [q, p] = [await logits(quantised, qLora), await logits(plain, pLora)]
      let worst = 0
      for (let i = 0; i < q.length; i++) worst = Math.max(worst, Math.abs(q[i] - p[i]))
      t.ok(worst < 1e-5, `max |Δ| ${worst.toExponential(2)}`)
      // And quantising really changed the base (the comparison above is not of two f32 copies).
      const original = ModelWeights.fromHost(config, randomWeights(config, 3, 0.2), { trainable: false })
      const oLora = make(original)
      const o = await logits(original, oLora)
      let moved = 0
      for (let i = 0; i < q.length; i++) moved = Math.max(moved, Math.abs(q[i] - o[i]))
      t.ok(moved > 1e-4, `the ${bits}-bit base moves the logits by ${moved.toExponential(2)} from the f32 one`)
      qLora.dispose(); pLora.dispose(); oLora.dispose(); quantised.dispose(); plain.dispose(); original.dispose()
    })
  }
}

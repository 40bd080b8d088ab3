// The tfjs forward pass against an independent float64 reference (model-reference.ts), on the
// cpu and wasm backends, for every architecture; and cpu/wasm agreement on logits and loss.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { forwardLogits } from '../../src/trainer/model/forward.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import { sftLoss } from '../../src/trainer/train/sft-loss.ts'
import { selectTargets } from '../../src/trainer/train/targets.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'
import { referenceLogits } from './model-reference.ts'

/** Phi-3 longrope on head_dim 8: four divisors per list, the attention factor of a 4× stretch. */
const PHI3_LONGROPE = (original: number): ModelConfig['ropeScaling'] => ({
  type: 'longrope', shortFactor: [1, 1.5, 2, 3], longFactor: [1, 3, 7, 20], originalMaxPositionEmbeddings: original,
  attentionFactor: Math.sqrt(1 + Math.log(4) / Math.log(original)),
})

const CASES: [string, ModelConfig][] = [
  ['llama, GQA, untied, llama3 rope scaling', tinyConfig('llama', {
    ropeTheta: 500000, maxPositions: 64,
    ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 },
  })],
  ['qwen2, q/k/v biases, tied', tinyConfig('qwen2')],
  ['gpt2, tied, learned positions', tinyConfig('gpt2')],
  ['phi3, fused qkv_proj / gate_up_proj, GQA', tinyConfig('phi3')],
  // The rows are 10 long: an original context of 8 takes the long factors, 64 the short ones.
  ['phi3, longrope (long factors)', tinyConfig('phi3', { ropeScaling: PHI3_LONGROPE(8) })],
  ['phi3, longrope (short factors)', tinyConfig('phi3', { ropeScaling: PHI3_LONGROPE(64) })],
  ['mistral, sliding window 4 (shorter than the rows)', tinyConfig('llama', { hfArchitecture: 'MistralForCausalLM', slidingWindow: 4 })],
  // Caps small enough to bite (attention scores and logits here are of order 1).
  ['gemma2, soft-capping, sliding window 4 on even layers', tinyConfig('gemma2', { slidingWindow: 4, headDim: 8, gemma2: { queryPreAttnScalar: 8, attnLogitSoftcap: 0.5, finalLogitSoftcap: 3 } })],
]
// Two right-padded rows: padding must not change the real positions' logits.
const rows = [[3, 17, 5, 60, 22, 9, 41, 8, 13, 2], [7, 7, 31, 4, 55, 12]]
const batch = batchOf(rows)

async function logitsAndLoss(config: ModelConfig, backend: 'cpu' | 'wasm') {
  await selectBackend(backend)
  const weights = ModelWeights.fromHost(config, randomWeights(config, 3, 0.2), { trainable: false })
  const logits = forwardLogits(weights, batch)
  const values = (await logits.data()) as Float32Array
  const targets = selectTargets(batch)
  const loss = tf.tidy(() => {
    const r = sftLoss(weights, null, batch, targets, { normalizer: targets.rows.length, dropoutSeed: null })
    r.correct.dispose()
    return r.loss
  })
  const lossValue = (await loss.data())[0]
  tf.dispose([logits, loss])
  weights.dispose()
  return { values, loss: lossValue }
}

for (const [name, config] of CASES) {
  t.test(name, async (t) => {
    const cpu = await logitsAndLoss(config, 'cpu')
    const wasm = await logitsAndLoss(config, 'wasm')
    const V = config.vocabSize
    const T = batch.seqLen
    let maxRef = 0
    let maxBackend = 0
    let refLoss = 0
    let targets = 0
    rows.forEach((ids, b) => {
      const mask = Array.from({ length: T }, (_, i) => (i < ids.length ? 1 : 0))
      const padded = Array.from({ length: T }, (_, i) => batch.ids[b * T + i])
      const ref = referenceLogits(config, randomWeights(config, 3, 0.2), padded, mask)
      for (let i = 0; i < ids.length; i++) {
        for (let v = 0; v < V; v++) {
          const at = (b * T + i) * V + v
          maxRef = Math.max(maxRef, Math.abs(cpu.values[at] - ref[i][v]))
          maxBackend = Math.max(maxBackend, Math.abs(cpu.values[at] - wasm.values[at]))
        }
        if (i + 1 < ids.length) {
          const row = ref[i]
          const max = Math.max(...row)
          const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0))
          refLoss += lse - row[ids[i + 1]]
          targets++
        }
      }
    })
    refLoss /= targets
    t.ok(maxRef < 1e-5, `cpu logits match the float64 reference (max |Δ| ${maxRef.toExponential(2)})`)
    t.ok(maxBackend < 1e-5, `wasm logits match cpu (max |Δ| ${maxBackend.toExponential(2)})`)
    t.ok(Math.abs(cpu.loss - refLoss) < 1e-5, `cpu loss ${cpu.loss} matches reference ${refLoss}`)
    // A few f32 ulps of the loss (wasm's tanh, in Gemma-2's caps, rounds differently from cpu's).
    t.ok(Math.abs(cpu.loss - wasm.loss) < 4e-7 * cpu.loss, `wasm loss ${wasm.loss} matches cpu ${cpu.loss}`)
    t.ok(cpu.loss > 1, 'random weights give a loss well above zero (the comparison is not vacuous)')
  })
}

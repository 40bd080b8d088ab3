// Gradient checkpointing (forward.ts, checkpointBlocks): each block's backward pass runs the block
// again from its saved input. The gradients must be those of the plain pass — LoRA with dropout
// (the replayed seeds must draw the same masks) and full fine-tuning, every architecture — and the
// step must hold less memory at its peak, on the wasm backend the trainer runs on here. When to
// checkpoint is planned (memory-plan.ts): on where the wasm heap would overflow.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { parseGradientCheckpointing, planCheckpointing, TrainingMemoryError, WASM_HEAP_BYTES } from '../../src/trainer/backend/memory-plan.ts'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { LoraAdapters } from '../../src/trainer/model/lora.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { variableKey } from '../../src/trainer/model/variable-names.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { sftLoss } from '../../src/trainer/train/sft-loss.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { selectTargets } from '../../src/trainer/train/targets.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const batch = batchOf([[3, 17, 5, 60, 22, 9, 41, 8], [7, 7, 31, 4, 55, 12]], { lossFrom: [3, 2] })
const targets = selectTargets(batch)

/** Loss and gradients by variable key, computed with or without checkpointing. */
async function gradients(weights: ModelWeights, lora: LoraAdapters | null, checkpointBlocks: boolean, dropoutSeed: number | null) {
  const vars = lora ? lora.variables() : weights.variables()
  const before = tf.memory().numTensors
  const { value, grads } = tf.variableGrads(() => {
    const r = sftLoss(weights, lora, batch, targets, { normalizer: targets.rows.length, dropoutSeed, checkpointBlocks })
    r.correct.dispose()
    return r.loss
  }, vars)
  const loss = (await value.data())[0]
  value.dispose()
  const out = new Map<string, Float32Array>()
  for (const [name, g] of Object.entries(grads)) out.set(variableKey(name), (await g.data()) as Float32Array)
  tf.dispose(Object.values(grads))
  return { loss, grads: out, leaked: tf.memory().numTensors - before }
}

function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { max: number; scale: number } {
  let max = 0, scale = 0
  for (const [k, ga] of a) {
    const gb = b.get(k)!
    for (let i = 0; i < ga.length; i++) {
      max = Math.max(max, Math.abs(ga[i] - gb[i]))
      scale = Math.max(scale, Math.abs(ga[i]))
    }
  }
  return { max, scale }
}

for (const arch of ['llama', 'phi3', 'gemma2', 'gpt2'] as const) {
  for (const method of ['lora', 'full'] as const) {
    t.test(`${arch} ${method}: checkpointed gradients equal the plain pass's`, async (t) => {
      await selectBackend('cpu')
      const config = tinyConfig(arch)
      const weights = ModelWeights.fromHost(config, randomWeights(config, 5, 0.2), { trainable: method === 'full' })
      let lora: LoraAdapters | null = null
      if (method === 'lora') {
        lora = LoraAdapters.create(weights, { rank: 4, alpha: 8, dropout: 0.3, targetModules: [...(arch === 'gpt2' ? ['c_attn', 'c_fc'] : arch === 'phi3' ? ['qkv_proj', 'down_proj'] : ['q_proj', 'v_proj', 'down_proj'])] }, Random.fromSeed(1))
        // B starts at zero (A's gradient would be zero): give it values so both are compared.
        const rng = Random.fromSeed(9)
        for (const { b } of lora.pairs.values()) b.assign(tf.tidy(() => tf.tensor(Float32Array.from({ length: b.size }, () => rng.uniform(-0.3, 0.3)), b.shape)))
      }
      const seed = method === 'lora' ? 1234 : null
      const plain = await gradients(weights, lora, false, seed)
      const checkpointed = await gradients(weights, lora, true, seed)
      t.equal(checkpointed.grads.size, plain.grads.size, 'a gradient for every variable')
      t.ok(plain.grads.size >= (method === 'lora' ? 2 * config.numLayers : 4 * config.numLayers), `${plain.grads.size} variables`)
      t.ok(Math.abs(checkpointed.loss - plain.loss) <= 1e-6 * Math.abs(plain.loss), `same loss (${checkpointed.loss} vs ${plain.loss})`)
      const { max, scale } = maxDifference(plain.grads, checkpointed.grads)
      t.ok(scale > 1e-4, `gradients are not all zero (largest ${scale})`)
      t.ok(max <= 1e-5 * scale + 1e-7, `largest difference ${max} (gradients up to ${scale})`)
      t.equal(checkpointed.leaked, 0, 'no tensor is left behind')
      if (method === 'lora') {
        // Another seed draws other masks: the comparison above would catch masks that were not replayed.
        const other = await gradients(weights, lora, true, 1235)
        t.ok(maxDifference(plain.grads, other.grads).max > 1e-4 * scale, 'another dropout seed gives other gradients')
      }
      lora?.dispose()
      weights.dispose()
    })
  }
}

t.test('wasm: a checkpointed step peaks lower, with the same gradients', async (t) => {
  await selectBackend('wasm')
  const config = tinyConfig('llama', { numLayers: 6 })
  const weights = ModelWeights.fromHost(config, randomWeights(config, 5, 0.2), { trainable: false })
  const lora = LoraAdapters.create(weights, { rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }, Random.fromSeed(1))
  const peak = async (checkpointBlocks: boolean) => {
    let result: Awaited<ReturnType<typeof gradients>> | null = null
    const profile = await tf.profile(async () => { result = await gradients(weights, lora, checkpointBlocks, 7) })
    return { peak: profile.peakBytes, result: result! }
  }
  const plain = await peak(false)
  const checkpointed = await peak(true)
  t.ok(checkpointed.peak < 0.6 * plain.peak, `peak ${checkpointed.peak} bytes checkpointed vs ${plain.peak} plain`)
  const { max, scale } = maxDifference(plain.result.grads, checkpointed.result.grads)
  t.ok(max <= 1e-5 * scale + 1e-7, `largest difference ${max} (gradients up to ${scale})`)
  lora.dispose()
  weights.dispose()
})

// SmolLM2-135M's shape: the size a user first tries on a laptop.
const smolLm = tinyConfig('llama', { hiddenSize: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, headDim: 64, intermediateSize: 1536, vocabSize: 49152, maxPositions: 2048, tieWordEmbeddings: true })

t.test('planCheckpointing: on where the wasm heap would overflow, off where it fits or nothing is known', async (t) => {
  const at512 = planCheckpointing(smolLm, 1, 512, 'lora', 'auto', WASM_HEAP_BYTES)
  t.equal(at512.checkpointBlocks, true, `135M × 512 tokens: ${(at512.plainPeakBytes / 2 ** 30).toFixed(1)} GiB plain, ${(at512.peakBytes / 2 ** 30).toFixed(1)} GiB checkpointed`)
  t.ok(at512.plainPeakBytes > WASM_HEAP_BYTES && at512.peakBytes < WASM_HEAP_BYTES / 2)
  t.equal(planCheckpointing(smolLm, 1, 64, 'lora', 'auto', WASM_HEAP_BYTES).checkpointBlocks, false, 'a short sequence fits without')
  t.equal(planCheckpointing(smolLm, 1, 512, 'lora', 'auto', null).checkpointBlocks, false, 'no known heap (a GPU): auto is off')
  t.equal(planCheckpointing(smolLm, 1, 64, 'lora', 'on', WASM_HEAP_BYTES).checkpointBlocks, true, 'on is on')
  t.throws(() => planCheckpointing(smolLm, 1, 512, 'lora', 'off', WASM_HEAP_BYTES), /needs about .* GiB \(gradient checkpointing is off\), more than the 4 GiB .*set SKILLET_TRAINER_GRADIENT_CHECKPOINTING to auto or on/,
    'off where it cannot fit: refused before the first step, with what would fix it')
  t.throws(() => planCheckpointing(smolLm, 64, 2048, 'full', 'auto', WASM_HEAP_BYTES), /even with gradient checkpointing.*smaller batch_size/, 'too big either way')
  t.throws(() => planCheckpointing(smolLm, 64, 2048, 'full', 'auto', WASM_HEAP_BYTES), TrainingMemoryError, 'an error the job fails on without a retry')
  t.equal(parseGradientCheckpointing(undefined), 'auto')
  t.equal(parseGradientCheckpointing(' ON '), 'on')
  t.equal(parseGradientCheckpointing('0'), 'off')
  t.throws(() => parseGradientCheckpointing('maybe'), /auto, on or off/)
})

// Preference pairs: chosen rows first, then the rejected rows of the same pairs.
const preference = [{ ...batchOf([[5, 6, 7, 40], [8, 9, 10, 42], [5, 6, 7, 50], [8, 9, 10, 52]], { lossFrom: [3, 3, 3, 3] }), pairs: 2 }]

for (const variant of ['lora', 'qlora', 'full', 'dpo'] as const) {
  t.test(`the trainer, ${variant}: a checkpointed run takes the same steps, and says it checkpoints`, async (t) => {
    await selectBackend('wasm')
    const config = tinyConfig('llama')
    const rows = [[3, 17, 5, 60, 22, 9, 41, 8], [7, 7, 31, 4, 55, 12, 2, 9]]
    const method = variant === 'qlora' ? 'lora' : variant
    const run = async (gradientCheckpointing: 'on' | 'off') => {
      const losses: number[] = [], events: string[] = []
      const trainer = new Trainer({
        config, weights: randomWeights(config, 3, 0.1), data: { batches: () => (variant === 'dpo' ? preference : [batchOf(rows), batchOf(rows)]) },
        options: { ...TRAIN_DEFAULTS, method, epochs: 2, learningRate: 1e-2, gradientCheckpointing,
          lora: { rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'v_proj', 'down_proj'], baseBits: variant === 'qlora' ? 8 : null } },
        reporter: { onStep: (m) => losses.push(m.trainLoss), onEvent: (_level, message) => events.push(message), onEval() {}, onCheckpoint() {} },
      })
      t.equal(trainer.checkpointBlocks, gradientCheckpointing === 'on')
      await trainer.run()
      trainer.dispose()
      return { losses, events }
    }
    const plain = await run('off')
    const checkpointed = await run('on')
    t.equal(plain.losses.length, variant === 'dpo' ? 2 : 4)
    t.same(checkpointed.losses, plain.losses, `the same losses, step by step (${plain.losses.map((l) => l.toFixed(4)).join(', ')})`)
    t.ok(plain.losses.at(-1)! < plain.losses[0], 'and it learns')
    t.ok(checkpointed.events.some((e) => /^gradient checkpointing on \(requested\)/.test(e)), 'a job event says so')
    t.notOk(plain.events.some((e) => /gradient checkpointing/.test(e)))
  })
}

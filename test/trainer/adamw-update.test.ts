// AdamW's one-kernel update (backend/adamw-update.ts) against the op-by-op update it replaces
// (train/adamw.ts), on cpu and wasm: parameters and both moments bit for bit over several steps,
// with weight decay on a matrix and none on a vector.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { ADAMW_UPDATE, installAdamWUpdate, MAX_FLOATS, usesAdamWUpdate } from '../../src/trainer/backend/adamw-update.ts'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { AdamW } from '../../src/trainer/train/adamw.ts'

const rng = Random.fromSeed(9)
const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => rng.uniform(-scale, scale))
const SHAPES: Record<string, number[]> = { matrix: [6, 5], vector: [5] }
const init = Object.fromEntries(Object.entries(SHAPES).map(([name, shape]) => [name, values(shape.reduce((a, b) => a * b), 1)]))
// Gradients of very different sizes, so that √v, ε and the corrections all matter.
const grads = [1, 1e-3, 30].map((scale) => Object.fromEntries(Object.entries(SHAPES).map(([name, shape]) => [name, values(shape.reduce((a, b) => a * b), scale)])))

/** Parameters and moments after three steps, as host arrays. */
async function train(oneKernel: boolean): Promise<Record<string, number[]>> {
  if (!oneKernel) tf.unregisterKernel(ADAMW_UPDATE, tf.getBackend())
  try {
    t.equal(usesAdamWUpdate(30), oneKernel, oneKernel ? 'the kernel is registered' : 'the op-by-op path')
    const params = Object.entries(SHAPES).map(([name, shape]) => tf.tidy(() => tf.variable(tf.tensor(init[name], shape), true, name)))
    const adam = new AdamW({ weightDecay: 0.1 })
    for (const [i, step] of grads.entries()) {
      const g = new Map(params.map((p) => [p.name, tf.tensor(step[p.name], p.shape)]))
      adam.apply(params, g, 1e-2 * (i + 1))
      tf.dispose([...g.values()])
    }
    const out: Record<string, number[]> = {}
    for (const p of params) {
      out[p.name] = [...(await p.data())]
      out[`m/${p.name}`] = [...(await adam.m.get(p.name)!.data())]
      out[`v/${p.name}`] = [...(await adam.v.get(p.name)!.data())]
    }
    adam.dispose()
    tf.dispose(params)
    return out
  } finally {
    installAdamWUpdate(tf.getBackend())
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  t.test(`AdamW on ${backend}: one kernel per parameter, the op-by-op values bit for bit`, async (t) => {
    await selectBackend(backend)
    const before = tf.memory().numTensors
    const ours = await train(true)
    const ops = await train(false)
    for (const key of Object.keys(ops)) t.same(ours[key], ops[key], `${key}: equal`)
    t.notOk(usesAdamWUpdate(MAX_FLOATS + 1), 'a large parameter keeps the op-by-op path (faster there)')
    t.notSame(ours.matrix, [...init.matrix], 'the parameters moved')
    t.equal(tf.memory().numTensors, before, 'no tensors leaked')
  })
}

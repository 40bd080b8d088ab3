// The hand-written gradient of a frozen projection with a LoRA adapter (frozen-linear.ts)
// against tfjs autodiff of the same formula written out op by op, on cpu and wasm: with a
// dropout mask and without, with and without a bias, and with no adapter at all.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { dropoutMask } from '../../src/trainer/model/dropout-mask.ts'
import { frozenLinear } from '../../src/trainer/model/frozen-linear.ts'
import { Random } from '../../src/trainer/model/random.ts'

const TOKENS = 12, IN = 10, OUT = 6, RANK = 3, SCALE = 8 / RANK, RATE = 0.25
const rng = Random.fromSeed(11)
const values = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1))
const host = { x: values(TOKENS * IN), w: values(IN * OUT), bias: values(OUT), a: values(IN * RANK), b: values(RANK * OUT), dy: values(TOKENS * OUT) }

type Case = { name: string; dropout: boolean; bias: boolean; adapter: boolean }
const CASES: Case[] = [
  { name: 'adapter, dropout, bias', dropout: true, bias: true, adapter: true },
  { name: 'adapter, no dropout', dropout: false, bias: false, adapter: true },
  { name: 'no adapter (input gradient only)', dropout: false, bias: true, adapter: false },
]

/** Value and gradients (x, A, B; A and B absent without an adapter) as host arrays, under a weighted sum loss. */
async function run(c: Case, useOp: boolean): Promise<Float32Array[]> {
  const x = tf.tensor2d(host.x, [TOKENS, IN])
  const w = tf.tensor2d(host.w, [IN, OUT])
  const bias = c.bias ? tf.tensor1d(host.bias) : null
  const aInit = tf.tensor2d(host.a, [IN, RANK])
  const bInit = tf.tensor2d(host.b, [RANK, OUT])
  const a = tf.variable(aInit)
  const b = tf.variable(bInit)
  const mask = c.dropout ? tf.tidy(() => dropoutMask(5, TOKENS, IN, RATE, SCALE / (1 - RATE))) : null
  const dy = tf.tensor2d(host.dy, [TOKENS, OUT])
  const f = (xIn: tf.Tensor, aIn: tf.Tensor, bIn: tf.Tensor): tf.Tensor => {
    const x2 = xIn as tf.Tensor2D
    if (useOp) {
      const lora = c.adapter ? { a, b, mask, scale: c.dropout ? 1 : SCALE } : null
      // The op reads A and B from the adapter; aIn/bIn are the same tensors, passed for tf.grads.
      void aIn; void bIn
      return frozenLinear(x2, { weight: w, bias }, lora, true)
    }
    let y = tf.matMul(x2, w)
    if (bias) y = tf.add(y, bias)
    if (!c.adapter) return y
    const xm = mask ? tf.mul(x2, mask) : x2
    let delta = tf.matMul(tf.matMul(xm, aIn as tf.Tensor2D), bIn as tf.Tensor2D)
    if (!mask) delta = tf.mul(delta, SCALE)
    return tf.add(y, delta)
  }
  const out: Float32Array[] = []
  const value = tf.tidy(() => f(x, a, b))
  out.push((await value.data()) as Float32Array)
  // Gradient of sum(y ⊙ dy) is dy pulled back through the op.
  const loss = (xIn: tf.Tensor, aIn: tf.Tensor, bIn: tf.Tensor) => tf.sum(tf.mul(f(xIn, aIn, bIn), dy))
  if (c.adapter) {
    const { grads, value: l } = tf.variableGrads(() => loss(x, a, b) as tf.Scalar, [a, b])
    out.push((await grads[a.name].data()) as Float32Array, (await grads[b.name].data()) as Float32Array)
    tf.dispose([l, ...Object.values(grads)])
  }
  const [dx] = tf.grads((xIn: tf.Tensor) => loss(xIn, a, b))([x])
  out.push((await dx.data()) as Float32Array)
  tf.dispose([x, w, aInit, bInit, a, b, dy, value, dx, ...(bias ? [bias] : []), ...(mask ? [mask] : [])])
  return out
}

for (const backend of ['cpu', 'wasm'] as const) {
  t.test(`${backend}: frozenLinear's value and gradients equal autodiff of the formula`, async (t) => {
    await selectBackend(backend)
    const before = tf.memory().numTensors
    for (const c of CASES) {
      const expected = await run(c, false)
      const actual = await run(c, true)
      const names = c.adapter ? ['value', 'dA', 'dB', 'dx'] : ['value', 'dx']
      t.equal(actual.length, names.length, `${c.name}: ${names.join(', ')}`)
      names.forEach((name, i) => {
        let worst = 0
        let scale = 1e-6
        for (let j = 0; j < expected[i].length; j++) {
          worst = Math.max(worst, Math.abs(expected[i][j] - actual[i][j]))
          scale = Math.max(scale, Math.abs(expected[i][j]))
        }
        t.ok(worst <= 1e-5 * scale, `${c.name}: ${name} max |Δ| ${worst.toExponential(2)} (largest entry ${scale.toFixed(2)})`)
      })
    }
    t.equal(tf.memory().numTensors, before, 'no tensors leaked')
  })
}

t.test('without an input gradient the op differentiates A and B only, with the same result', async (t) => {
  await selectBackend('wasm')
  const x = tf.tensor2d(host.x, [TOKENS, IN])
  const w = tf.tensor2d(host.w, [IN, OUT])
  const a = tf.variable(tf.tensor2d(host.a, [IN, RANK]))
  const b = tf.variable(tf.tensor2d(host.b, [RANK, OUT]))
  const dy = tf.tensor2d(host.dy, [TOKENS, OUT])
  const gradsWith = (xNeedsGradient: boolean) => tf.variableGrads(() =>
    tf.sum(tf.mul(frozenLinear(x, { weight: w, bias: null }, { a, b, mask: null, scale: SCALE }, xNeedsGradient), dy)) as tf.Scalar, [a, b])
  const full = gradsWith(true)
  const lean = gradsWith(false)
  for (const v of [a, b]) t.same([...(await lean.grads[v.name].data())], [...(await full.grads[v.name].data())], `same gradient for ${v === a ? 'A' : 'B'}`)
  tf.dispose([x, w, a, b, dy, full.value, lean.value, ...Object.values(full.grads), ...Object.values(lean.grads)])
})

// The hand-written gradient of RMSNorm (rms-norm.ts) against tfjs autodiff of the same formula
// written out op by op, on cpu and wasm: Llama's gain w and Gemma-2's 1 + w, with the weight
// trained (full fine-tuning: its gradient too) and frozen (LoRA: the input's gradient only).
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { Random } from '../../src/trainer/model/random.ts'
import { rmsNorm } from '../../src/trainer/model/rms-norm.ts'

const TOKENS = 7, D = 12, EPS = 1e-5
const rng = Random.fromSeed(5)
const values = (n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.uniform(-scale, scale))
const host = { x: values(TOKENS * D, 3), w: values(D), dy: values(TOKENS * D) }

/** The norm as autodiff sees it, op by op. */
const reference = (x: tf.Tensor2D, w: tf.Tensor, plusOne: boolean) =>
  tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), EPS))), plusOne ? tf.add(w, 1) : w) as tf.Tensor2D

/** [value, dx, dw (when the weight trains)] under the loss Σ y ⊙ dy. */
async function run(useOp: boolean, plusOne: boolean, trains: boolean): Promise<Float32Array[]> {
  const xInit = tf.tensor2d(host.x, [TOKENS, D])
  const x = tf.variable(xInit, true, undefined, 'float32')
  const wInit = tf.tensor1d(host.w)
  const w = tf.variable(wInit, trains)
  const dy = tf.tensor2d(host.dy, [TOKENS, D])
  const norm = () => (useOp ? rmsNorm(x, w, EPS, plusOne) : reference(x, w, plusOne))
  const value = tf.tidy(norm)
  const { value: loss, grads } = tf.variableGrads(() => tf.sum(tf.mul(norm(), dy)) as tf.Scalar, trains ? [x, w] : [x])
  const out = [await value.data(), await grads[x.name].data()] as Float32Array[]
  if (trains) out.push((await grads[w.name].data()) as Float32Array)
  tf.dispose([xInit, x, wInit, w, dy, value, loss, ...Object.values(grads)])
  return out
}

for (const backend of ['cpu', 'wasm'] as const) {
  t.test(`rmsNorm on ${backend}: value and gradients equal autodiff's`, async (t) => {
    await selectBackend(backend)
    const before = tf.memory().numTensors
    for (const plusOne of [false, true]) {
      for (const trains of [true, false]) {
        const name = `${plusOne ? '1 + w (Gemma-2)' : 'w'}, weight ${trains ? 'trained' : 'frozen'}`
        const ours = await run(true, plusOne, trains)
        const theirs = await run(false, plusOne, trains)
        t.equal(ours.length, trains ? 3 : 2, `${name}: ${trains ? 'dx and dw' : 'dx only'}`)
        t.same([...ours[0]], [...theirs[0]], `${name}: the same forward values, bit for bit`)
        for (const [i, what] of [[1, 'dx'], [2, 'dw']] as const) {
          if (i >= ours.length) continue
          let worst = 0
          for (let j = 0; j < ours[i].length; j++) worst = Math.max(worst, Math.abs(ours[i][j] - theirs[i][j]))
          t.ok(worst < 1e-5, `${name}: ${what} max |Δ| ${worst.toExponential(2)} < 1e-5`)
        }
      }
    }
    t.equal(tf.memory().numTensors, before, 'no tensors leaked')
  })
}

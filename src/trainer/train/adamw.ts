// AdamW (Loshchilov & Hutter 2019), written out. Decoupled weight decay: the decay shrinks the
// weight directly (p ← p·(1 − lr·wd)) instead of being added to the gradient, so Adam's
// per-coordinate scaling does not weaken it. Ordering follows torch.optim.AdamW.
import * as tf from '@tensorflow/tfjs-core'
import { ADAMW_UPDATE, type AdamWUpdateAttrs, usesAdamWUpdate } from '../backend/adamw-update.ts'

export interface AdamWOptions {
  beta1: number
  beta2: number
  epsilon: number
  weightDecay: number
}

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 }

/** Weight decay applies to matrices only; biases, norm gains and other vectors are left alone. */
const decays = (v: tf.Variable) => v.shape.length >= 2

export class AdamW {
  readonly options: AdamWOptions
  /** Number of updates applied so far (t in the bias corrections). */
  step = 0
  /** First and second moments, by variable name. */
  readonly m = new Map<string, tf.Variable>()
  readonly v = new Map<string, tf.Variable>()

  constructor(options: Partial<AdamWOptions> = {}) {
    this.options = { ...ADAMW_DEFAULTS, ...options }
  }

  /** The moment variables of `p`, created as zeros on first use. */
  moments(p: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let m = this.m.get(p.name)
    let v = this.v.get(p.name)
    if (!m || !v) {
      const zeros = tf.zerosLike(p)
      m = tf.variable(zeros, false, `adam_m/${p.name}`)
      v = tf.variable(zeros, false, `adam_v/${p.name}`)
      zeros.dispose()
      this.m.set(p.name, m)
      this.v.set(p.name, v)
    }
    return { m, v }
  }

  /** One update of every parameter with its gradient, at learning rate `lr`. */
  apply(params: tf.Variable[], grads: Map<string, tf.Tensor>, lr: number): void {
    this.step += 1
    const { beta1, beta2, epsilon, weightDecay } = this.options
    const correction1 = 1 - Math.pow(beta1, this.step)
    const correction2 = 1 - Math.pow(beta2, this.step)
    for (const p of params) {
      const g = grads.get(p.name)
      if (!g) continue
      const { m, v } = this.moments(p)
      const decay = weightDecay > 0 && decays(p) ? 1 - lr * weightDecay : 1
      if (usesAdamWUpdate(p.size)) {
        // A small parameter: the same update as the ops below, bit for bit, as one kernel (backend/adamw-update.ts).
        tf.tidy(() => {
          const attrs: AdamWUpdateAttrs = { beta1, beta2, epsilon, sqrtCorrection2: Math.sqrt(correction2), stepSize: lr / correction1, decay }
          const [pNew, mNew, vNew] = tf.engine().runKernel(ADAMW_UPDATE, { p, m, v, g }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[]
          m.assign(mNew)
          v.assign(vNew)
          p.assign(pNew)
        })
        continue
      }
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1))
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2))
        // p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)
        const decayed = decay !== 1 ? tf.mul(p, decay) : p
        const denom = tf.add(tf.div(tf.sqrt(vNew), Math.sqrt(correction2)), epsilon)
        const update = tf.mul(tf.div(mNew, denom), lr / correction1)
        m.assign(mNew)
        v.assign(vNew)
        p.assign(tf.sub(decayed, update))
      })
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose()
    this.m.clear()
    this.v.clear()
  }
}

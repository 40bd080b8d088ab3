// A projection with a frozen base weight and an optional LoRA adapter, as one op with a
// hand-written gradient:
//
//   y = x·W (+ bias) + ((x ⊙ M)·A)·B · c
//
// where M is the dropout mask with dropout's 1/(1 − p) and LoRA's alpha/r folded in (c = 1),
// or, without dropout, there is no mask and c = alpha/r (applied to the thin [tokens, r]
// product, not to a full-size output).
//
// Why not leave it to autodiff: tfjs's tape differentiates op by op, so the LoRA path cost a
// dozen full-size passes
// (dropout's add/floor/div/mul, the alpha/r multiply and their gradients) around two
// matrix products that are tiny at rank r. Here the backward pass does exactly
//
//   g  = dy·Bᵀ · c                      [tokens, r]
//   dA = (x ⊙ M)ᵀ·g                     [in, r]
//   dB = (((x ⊙ M)·A) · c)ᵀ·dy          [r, out]
//   dx = dy·Wᵀ + (g·Aᵀ) ⊙ M            [tokens, in]   (only when x needs a gradient)
//
// dx is skipped where the caller knows no gradient flows into x (the first block's input comes
// from the frozen embedding); autodiff prunes that too, and the op must not bring the work back.
//
// W may be held quantised (QLoRA, quantised-matrix.ts): each product with it (x·W forward, dy·Wᵀ
// backward) dequantises it into a transient tensor disposed right after; nothing keeps the f32 copy.
import * as tf from '@tensorflow/tfjs-core'
import { withWeight, type ProjectionWeight } from './quantised-matrix.ts'

/**
 * The frozen part: W [in, out] and an optional bias [out]. (dy·Wᵀ is taken with a transpose
 * flag; keeping a transposed copy of every frozen weight measured no faster on wasm and would
 * double the weights' memory, which caps the model size under wasm's 4 GB heap.)
 */
export interface FrozenProjection {
  weight: ProjectionWeight
  bias: tf.Tensor | null
}

/** The trainable part: A [in, r], B [r, out], and how x reaches A. */
export interface LoraPath {
  a: tf.Variable
  b: tf.Variable
  /** [tokens, in] dropout mask with every constant factor folded in, or null for none. */
  mask: tf.Tensor2D | null
  /** The factor c above: alpha/r without a mask, 1 with one. */
  scale: number
}

/**
 * x [tokens, in] → [tokens, out]. `xNeedsGradient`: whether anything trainable lies upstream
 * of x (if not, no input gradient is computed). Call inside tf.tidy or a gradient function.
 */
export function frozenLinear(x: tf.Tensor2D, base: FrozenProjection, lora: LoraPath | null, xNeedsGradient: boolean): tf.Tensor2D {
  const project = (input: tf.Tensor2D): tf.Tensor2D => {
    const y: tf.Tensor2D = withWeight(base.weight, (w) => tf.matMul(input, w))
    return base.bias ? tf.add<tf.Tensor2D>(y, base.bias) : y
  }
  // Nothing to differentiate: a plain product (autodiff has nothing to record either).
  if (!lora && !xNeedsGradient) return project(x)

  if (!lora) {
    const inputGradientOnly = tf.customGrad((input) => ({
      value: project(input as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor) => [withWeight(base.weight, (w) => tf.matMul(dy as tf.Tensor2D, w, false, true))], // dy·Wᵀ
    }))
    return inputGradientOnly(x) as tf.Tensor2D
  }

  const { a, b, mask, scale } = lora
  const forward = (input: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const xm = mask ? tf.mul<tf.Tensor2D>(input, mask) : input // [tokens, in]
    let u = tf.matMul(xm, a) // [tokens, r]
    if (scale !== 1) u = tf.mul(u, scale)
    // The mask is saved too: tensors made during the forward pass that are not saved are gone by the backward pass.
    save(mask ? [xm, u, mask] : [xm, u])
    const value = tf.add<tf.Tensor2D>(project(input), tf.matMul(u, b)) // [tokens, out]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xmSaved, uSaved, maskSaved] = saved as tf.Tensor2D[]
      const dy2 = dy as tf.Tensor2D
      let g = tf.matMul(dy2, b, false, true) // [tokens, r]
      if (scale !== 1) g = tf.mul(g, scale)
      const dA = tf.matMul(xmSaved, g, true, false) // [in, r]
      const dB = tf.matMul(uSaved, dy2, true, false) // [r, out]
      if (!xNeedsGradient) return [dA, dB]
      let dxLora = tf.matMul(g, a, false, true) // [tokens, in]
      if (maskSaved) dxLora = tf.mul(dxLora, maskSaved)
      return [tf.add(withWeight(base.weight, (w) => tf.matMul(dy2, w, false, true)), dxLora), dA, dB]
    }
    return { value, gradFunc }
  }
  if (xNeedsGradient) {
    return tf.customGrad((input, _a, _b, save) => forward(input as tf.Tensor2D, save as tf.GradSaveFunc))(x, a, b) as tf.Tensor2D
  }
  return tf.customGrad((_a, _b, save) => forward(x, save as tf.GradSaveFunc))(a, b) as tf.Tensor2D
}

// RMSNorm as one op with a hand-written gradient:
//
//   r = 1/√(mean(x², last axis) + eps)     [tokens, 1]
//   n = x · r                              [tokens, D]
//   y = n · g                              g = w, or 1 + w (Gemma-2)
//
// backward, with h = dy · g:
//
//   dx = r · (h − n · mean(h · n, last axis))
//   dw = Σ_tokens dy · n                   (only when w trains)
//
// Why not leave it to autodiff: tfjs's tape took ~20 kernels for this backward — the broadcast
// multiplies' reductions, rsqrt's and square's gradients, and Mean's, which builds a full-size
// tensor of ones in JavaScript and uploads it — where six do it. A LoRA step of the bench has nine
// norms. The forward pass is the same ops as before, in the same order, so its values are unchanged.
import * as tf from '@tensorflow/tfjs-core'

/** x [tokens, D], w [D] → [tokens, D]. `plusOne`: the gain is 1 + w (Gemma-2). Call inside tf.tidy or a gradient function. */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor, eps: number, plusOne: boolean): tf.Tensor2D {
  // A frozen weight is no input of the op: the tape then asks for no gradient of it.
  const trains = w instanceof tf.Variable && w.trainable
  const forward = (input: tf.Tensor2D, weight: tf.Tensor, save: tf.GradSaveFunc) => {
    const meanSquare = tf.mean(tf.square(input), -1, true) // [tokens, 1]
    const r = tf.rsqrt(tf.add(meanSquare, eps)) // [tokens, 1]
    const gain = plusOne ? tf.add(weight, 1) : weight // [D]
    const n = tf.mul(input, r) as tf.Tensor2D // [tokens, D]
    save([n, r, gain])
    const value = tf.mul(n, gain) as tf.Tensor2D // [tokens, D]
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [nSaved, rSaved, gainSaved] = saved
      const h = tf.mul(dy, gainSaved) // [tokens, D]
      const dx = tf.mul(tf.sub(h, tf.mul(nSaved, tf.mean(tf.mul(h, nSaved), -1, true))), rSaved) // [tokens, D]
      return trains ? [dx, tf.sum(tf.mul(dy, nSaved), 0)] : [dx]
    }
    return { value, gradFunc }
  }
  if (trains) {
    return tf.customGrad((input, weight, save) => forward(input as tf.Tensor2D, weight as tf.Tensor, save as tf.GradSaveFunc))(x, w) as tf.Tensor2D
  }
  return tf.customGrad((input, save) => forward(input as tf.Tensor2D, w, save as tf.GradSaveFunc))(x) as tf.Tensor2D
}

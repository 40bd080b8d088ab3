// Global-norm gradient clipping (as torch.nn.utils.clip_grad_norm_): if the L2 norm of all
// gradients together exceeds maxNorm, every gradient is scaled by maxNorm / norm.
import * as tf from '@tensorflow/tfjs-core'
import { addMany } from '../backend/add-many.ts'

/**
 * Returns the pre-clipping global norm (a host number) and the clipped gradients (new tensors
 * where scaled; the input map's tensors are disposed when replaced). maxNorm ≤ 0 disables clipping.
 */
export async function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): Promise<number> {
  const normTensor = tf.tidy(() => tf.sqrt(addMany([...grads.values()].map((g) => tf.sum(tf.square(g))))))
  const norm = (await normTensor.data())[0]
  normTensor.dispose()
  if (maxNorm > 0 && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6)
    for (const [name, g] of grads) {
      grads.set(name, tf.mul(g, scale))
      g.dispose()
    }
  }
  return norm
}

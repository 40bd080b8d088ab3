// Sums many tensors of one shape without exceeding a GPU kernel's input limit.
//
// Why: tfjs-backend-webgpu's AddN binds every input as its own storage buffer. Past the device's
// maxStorageBuffersPerShaderStage (8 by WebGPU default, 16 on lavapipe even when raised) the
// kernel fails validation, nothing is written, and the output buffer (recycled from the pool)
// silently keeps whatever was there before. Summing in groups that fit avoids it everywhere.
import * as tf from '@tensorflow/tfjs-core'
import { activeGpuLimits } from './webgpu.ts'

/** Inputs one AddN may take on the current backend: one storage buffer is the output. */
export function maxAddNInputs(): number {
  const limits = activeGpuLimits()
  return limits ? Math.max(2, limits.maxStorageBuffersPerShaderStage - 1) : Infinity
}

/**
 * Σ tensors, as tf.addN, in groups of at most `maxInputs`. Inputs are not disposed; call inside
 * tf.tidy (or a gradient function) to free the partial sums.
 */
export function addMany<T extends tf.Tensor>(tensors: T[], maxInputs = maxAddNInputs()): T {
  if (tensors.length === 0) throw new Error('addMany: nothing to add')
  if (maxInputs < 2) throw new Error(`addMany: maxInputs must be at least 2 (got ${maxInputs})`)
  let level: T[] = tensors
  while (level.length > 1) {
    const next: T[] = []
    for (let i = 0; i < level.length; i += maxInputs) {
      const group = level.slice(i, i + maxInputs)
      next.push(group.length === 1 ? group[0] : tf.addN(group) as T)
    }
    level = next
  }
  return tensors.length === 1 ? tf.clone(level[0]) : level[0]
}

// Folds a LoRA adapter into the base weights: W' = W + (alpha / r) · B·A, as PEFT's
// merge_and_unload does. GPT-2's Conv1D weights are [in, out], so there the update is (B·A)ᵀ.
import type { HostTensor, HostTensors, LoraAdapter, ModelConfig } from '../model/types.ts'

/** scale · B·A as an [out, in] matrix (or its transpose, [in, out], when `transposed`). */
export function loraDelta(a: HostTensor, b: HostTensor, scale: number, transposed: boolean): Float32Array {
  const [rank, inDim] = a.shape
  const outDim = b.shape[0]
  const delta = new Float32Array(outDim * inDim)
  for (let o = 0; o < outDim; o++) {
    for (let k = 0; k < rank; k++) {
      const bk = scale * b.data[o * rank + k]
      if (bk === 0) continue
      for (let i = 0; i < inDim; i++) {
        const index = transposed ? i * outDim + o : o * inDim + i
        delta[index] += bk * a.data[k * inDim + i]
      }
    }
  }
  return delta
}

/** A new weight map with every adapted module merged; untouched tensors are shared, not copied. */
export function mergeLora(config: ModelConfig, weights: HostTensors, adapter: LoraAdapter): HostTensors {
  const scale = adapter.alpha / adapter.rank
  const conv1d = config.architecture === 'gpt2'
  const merged: HostTensors = new Map(weights)
  for (const [module, { a, b }] of adapter.modules) {
    const name = `${module}.weight`
    const base = weights.get(name)
    if (!base) throw new Error(`LoRA module ${module} has no base weight ${name}`)
    const expected = conv1d ? [a.shape[1], b.shape[0]] : [b.shape[0], a.shape[1]]
    if (base.shape[0] !== expected[0] || base.shape[1] !== expected[1]) {
      throw new Error(`LoRA module ${module}: update is [${expected}] but the weight is [${base.shape}]`)
    }
    const delta = loraDelta(a, b, scale, conv1d)
    const data = new Float32Array(base.data)
    for (let i = 0; i < data.length; i++) data[i] += delta[i]
    merged.set(name, { shape: base.shape, data })
  }
  return merged
}

// AdamW's update of one parameter as one kernel on the backends whose memory JavaScript reads
// (wasm, cpu): p, m, v and g in; the new p, m and v out, in one pass.
//
// Why: written as tensor ops (train/adamw.ts) the update is 13 kernels per parameter. A LoRA step of
// the bench updates 56 small tensors ([256, 8], [8, 256]…): ~670 kernels, a third of the step's,
// each mostly the engine's own cost for a few thousand floats. As one kernel each, the update of
// those 56 took 2.4 ms instead of 6.7–7.5 (wasm). The loop in JavaScript is slower per float than
// wasm's SIMD kernels, though: the full fine-tuning update of the bench's 2.9M weights took 37–42 ms
// this way against 18–23 ms op by op. So only parameters up to MAX_FLOATS use it (usesAdamWUpdate).
//
// The values are the op-by-op path's, bit for bit: every operation is rounded to float32 where a
// tensor op would round it (Math.fround; f64 products and quotients of f32 values round once to the
// same f32, and so does sqrt), in the same order, with the scalars rounded as tfjs rounds a number
// it makes into a float32 scalar. Other backends (webgpu) keep the op-by-op path.
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core'

export const ADAMW_UPDATE = 'SkilletAdamWUpdate'

/** The step's constants (adamw.ts): `decay` is 1 − lr·wd, or 1 when the parameter does not decay (p·1 is p exactly). */
export interface AdamWUpdateAttrs {
  beta1: number
  beta2: number
  epsilon: number
  /** √(1 − β2ᵗ) */
  sqrtCorrection2: number
  /** lr / (1 − β1ᵗ) */
  stepSize: number
  decay: number
}

/**
 * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p·decay − stepSize · m / (√v / √(1−β2ᵗ) + ε),
 * into the output arrays (which may not alias the inputs).
 */
export function adamwUpdateValues(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, a: AdamWUpdateAttrs,
  pOut: Float32Array, mOut: Float32Array, vOut: Float32Array): void {
  const f = Math.fround
  const beta1 = f(a.beta1), oneMinusBeta1 = f(1 - a.beta1), beta2 = f(a.beta2), oneMinusBeta2 = f(1 - a.beta2)
  const sqrtCorrection2 = f(a.sqrtCorrection2), epsilon = f(a.epsilon), stepSize = f(a.stepSize)
  const decay = f(a.decay)
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]
    const mi = f(f(m[i] * beta1) + f(gi * oneMinusBeta1))
    const vi = f(f(v[i] * beta2) + f(f(gi * gi) * oneMinusBeta2))
    const denom = f(f(f(Math.sqrt(vi)) / sqrtCorrection2) + epsilon)
    const update = f(f(mi / denom) * stepSize)
    const decayed = f(p[i] * decay)
    pOut[i] = decayed - update
    mOut[i] = mi
    vOut[i] = vi
  }
}

type Args = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }
type Inputs = { p: TensorInfo; m: TensorInfo; v: TensorInfo; g: TensorInfo }

function checked(args: Args): Inputs {
  const inputs = args.inputs as Inputs
  for (const t of [inputs.p, inputs.m, inputs.v, inputs.g]) {
    if (t.dtype !== 'float32') throw new Error(`${ADAMW_UPDATE}: float32 only`)
    if (!tf.util.arraysEqual(t.shape, inputs.p.shape)) throw new Error(`${ADAMW_UPDATE}: shapes differ (${t.shape} and ${inputs.p.shape})`)
  }
  return inputs
}

interface WasmInternals {
  wasm: { HEAPF32: Float32Array }
  dataIdMap: { get(dataId: object): { memoryOffset: number } }
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
}

function wasmAdamWUpdate(args: Args): TensorInfo[] {
  const backend = args.backend as WasmInternals
  const { p, m, v, g } = checked(args)
  const outs = [0, 1, 2].map(() => backend.makeOutput(p.shape, 'float32'))
  // Views are taken after the allocations, which may have grown the heap.
  const size = tf.util.sizeFromShape(p.shape)
  const view = (t: TensorInfo) => {
    const start = backend.dataIdMap.get(t.dataId).memoryOffset >>> 2
    return backend.wasm.HEAPF32.subarray(start, start + size)
  }
  adamwUpdateValues(view(p), view(m), view(v), view(g), args.attrs as unknown as AdamWUpdateAttrs, view(outs[0]), view(outs[1]), view(outs[2]))
  return outs
}

interface CpuInternals {
  data: { get(dataId: object): { values: unknown } }
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo
}

function cpuAdamWUpdate(args: Args): TensorInfo[] {
  const backend = args.backend as CpuInternals
  const { p, m, v, g } = checked(args)
  const values = (t: TensorInfo) => backend.data.get(t.dataId).values as Float32Array
  const size = tf.util.sizeFromShape(p.shape)
  const outs = [new Float32Array(size), new Float32Array(size), new Float32Array(size)]
  adamwUpdateValues(values(p), values(m), values(v), values(g), args.attrs as unknown as AdamWUpdateAttrs, outs[0], outs[1], outs[2])
  return outs.map((out) => backend.makeTensorInfo(p.shape, 'float32', out))
}

const KERNELS: Record<string, KernelConfig['kernelFunc']> = {
  wasm: wasmAdamWUpdate as KernelConfig['kernelFunc'],
  cpu: cpuAdamWUpdate as KernelConfig['kernelFunc'],
}

/** Registers the kernel for `backendName` if we have one for it (idempotent). */
export function installAdamWUpdate(backendName: string): void {
  const kernelFunc = KERNELS[backendName]
  if (!kernelFunc || tf.getKernel(ADAMW_UPDATE, backendName)) return
  tf.registerKernel({ kernelName: ADAMW_UPDATE, backendName, kernelFunc })
}

/** Parameters up to this many floats are updated by the kernel: below it the engine's per-op cost dominates. */
export const MAX_FLOATS = 16384

/** Whether a parameter of `size` floats is updated by the kernel on the active backend. */
export function usesAdamWUpdate(size: number): boolean {
  return size <= MAX_FLOATS && tf.getKernel(ADAMW_UPDATE, tf.getBackend()) !== undefined
}

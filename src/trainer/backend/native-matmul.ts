// Batched matrix products on native code: onnxruntime's CPU kernels (MLAS, with AVX2/AVX-512 FMA
// and its own thread pool), called synchronously on Float32Array views — the wasm backend's
// BatchMatMul kernel (wasm-batch-matmul.ts) points them at its heap, so nothing is copied:
// onnxruntime reads both operands where they lie and writes the product into the output tensor.
//
// Why: wasm SIMD is 4 lanes wide without fused multiply-add, which caps XNNPACK at roughly
// 8 FLOPs per cycle per core — below what PyTorch's OpenBLAS reaches on one core of the same
// machine. MLAS measured 50–117 GFLOP/s on the bench's shapes on 2 cores, against XNNPACK's 22.
//
// onnxruntime-node (the npm package, with prebuilt binaries for linux/macOS/windows x64 and arm64)
// is a dependency, but the trainer does without: where it is missing or does not load, the
// kernel keeps XNNPACK. Its JS API runs a
// session asynchronously (setImmediate around the native call); a tfjs kernel must return its
// result, so this calls the native binding's run directly — the same call, without the deferral.
import { createRequire } from 'node:module'
import { fusedMatMulModel } from './onnx-matmul-model.ts'

/** [batch, rows, cols] of one operand as it lies in memory (before its transpose flag). */
export type Shape3 = [number, number, number]

export interface NativeMatMul {
  /** Threads of onnxruntime's intra-op pool. */
  readonly threads: number
  /** onnxruntime's version, for the log line. */
  readonly version: string
  /**
   * out[b] = op(a[b or 0]) · op(b[b or 0]): a batch of 1 on either side broadcasts. `out` holds
   * [batch, m, n] floats; the views may share one buffer (the wasm heap) but must not overlap.
   */
  matMul(a: Float32Array, aShape: Shape3, b: Float32Array, bShape: Shape3, transposeA: boolean, transposeB: boolean, out: Float32Array, outShape: Shape3): void
}

/** The parts of onnxruntime-node this uses: its native binding and onnxruntime-common's Tensor. */
interface OrtTensor { readonly dims: readonly number[] }
interface OrtSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor>, options: object): unknown
}
interface OrtModules {
  binding: { InferenceSession: new () => OrtSession }
  initOrt(): void
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor
  version: string
}

const require = createRequire(import.meta.url)

function loadOrt(): OrtModules {
  let main: { Tensor: OrtModules['Tensor']; env: { versions: { node?: string; common?: string } } }
  try {
    main = require('onnxruntime-node')
  } catch (err) {
    throw new Error(`onnxruntime-node does not load (${(err as Error).message.split('\n')[0]})`)
  }
  const { binding, initOrt } = require('onnxruntime-node/dist/binding.js') as Pick<OrtModules, 'binding' | 'initOrt'>
  const version = main.env.versions.node ?? main.env.versions.common ?? 'unknown'
  return { binding, initOrt, Tensor: main.Tensor, version }
}

/**
 * A product too small to split: one with a side of at most SMALL_SIDE (LoRA's rank: [tokens, r]
 * · [r, out], xᵀ·g, …) or under SMALL_MACS multiply-adds in all (one attention head's products).
 * Split across threads they ran slower than on one — [1024, 8]·[8, 256] 1.35 ms on 2 threads
 * against 0.6 ms on 1 — as the work per thread is shorter than waking and joining it. A batch
 * counts whole: the bench's 32 heads of [128, 128]·[128, 64] (1M multiply-adds each) took
 * 0.8–1.0 ms on 2 threads against 0.9–2.0 ms on 1 (Pᵀ·dO 1.8–2.0 ms against 1.0).
 */
const SMALL_SIDE = 16
const SMALL_MACS = 1 << 22
export function runsOnOneThread(m: number, k: number, n: number, batch = 1): boolean {
  return Math.min(m, k, n) <= SMALL_SIDE || batch * m * k * n < SMALL_MACS
}

/**
 * Loads onnxruntime and prepares its sessions: one per pair of transpose flags on `threads`
 * threads, and (with more than one) the same on one thread for small products (runsOnOneThread).
 * Throws, saying why, where onnxruntime-node is not installed or does not load.
 */
export function loadNativeMatMul(threads: number): NativeMatMul {
  const ort = loadOrt()
  ort.initOrt()
  const sessionsOn = (poolThreads: number) => {
    const options = {
      intraOpNumThreads: poolThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // One node: nothing to optimise, and a session loads faster without the passes.
      graphOptimizationLevel: 'disabled',
      // The pool's threads sleep between products instead of spinning for the next one: a trainer
      // runs element-wise work between products, and on a virtual machine spinning vCPUs are
      // descheduled by the hypervisor (measured on the 2-vCPU development VM: a LoRA step of the
      // bench took 941 ms with spinning, 613 ms without).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    }
    return [false, true].map((ta) => [false, true].map((tb) => {
      const session = new ort.binding.InferenceSession()
      const model = fusedMatMulModel(ta, tb)
      session.loadModel(model.buffer, model.byteOffset, model.byteLength, options)
      return session
    }))
  }
  const parallel = sessionsOn(threads)
  const single = threads > 1 ? sessionsOn(1) : parallel
  const runOptions = {}
  return {
    threads,
    version: ort.version,
    matMul(a, aShape, b, bShape, transposeA, transposeB, out, outShape) {
      const [batch, m, n] = outShape
      const k = transposeA ? aShape[1] : aShape[2]
      const sessions = runsOnOneThread(m, k, n, batch) ? single : parallel
      const feeds = { A: new ort.Tensor('float32', a, aShape), B: new ort.Tensor('float32', b, bShape) }
      // A tensor in `fetches` is a preallocated output: onnxruntime writes the product into it.
      sessions[Number(transposeA)][Number(transposeB)].run(feeds, { Y: new ort.Tensor('float32', out, outShape) }, runOptions)
    },
  }
}

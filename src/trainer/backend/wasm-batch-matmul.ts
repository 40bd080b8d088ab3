// A replacement BatchMatMul kernel for the tfjs wasm backend that keeps every product on
// XNNPACK's fast path.
//
// Why: the stock wasm kernel hands 2-D products without transpose flags to XNNPACK
// (~20–40 GFLOP/s on one core) but runs everything else — a transpose flag, or any batch
// dimension — through a naive triple loop (~1–3 GFLOP/s). Every weight gradient
// (x^T·dy), every input gradient (dy·W^T) and all of attention hit that slow loop.
//
// How: a transpose flag is removed by materialising the transpose (a cheap O(n) copy next
// to the O(n^1.5) product); a batch dimension is folded into the rows when only `a` has
// it, and otherwise looped over, pointing the wasm module at each batch slice in place
// (a slice is registered as its own tensor id over the same memory: no copy). Each
// individual call is then a plain 2-D product, which the stock code sends to XNNPACK. A thin
// xᵀ·dy result (LoRA's weight gradient) is computed transposed, so XNNPACK does not repack
// the big dy (see step 0 below).
//
// With native matmul (native-matmul.ts: onnxruntime's MLAS, installed by the backend loader when
// onnxruntime-node loads), products go there instead, transpose flags and batch included, on views
// of the heap — all but those with an inner dimension of LoRA's rank, which XNNPACK computes
// faster (nativeRoute).
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core'
import type { NativeMatMul, Shape3 } from './native-matmul.ts'

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (they are not in its public types). */
interface WasmBackendInternals {
  wasm: {
    HEAPF32: Float32Array
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void
    tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void
      disposeData(id: number): void
    }
  }
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } }
  dataIdNextNumber: number
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
  disposeData(dataId: object): boolean
}

type WasmMatMul2d = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array,
  bRank: number, transposeA: boolean, transposeB: boolean, outId: number) => void

let wasmMatMul: WasmMatMul2d | null = null
let wasmModuleOfBinding: unknown = null

function bind(backend: WasmBackendInternals): WasmMatMul2d {
  // Re-bind if the backend was re-created (tests switch backends back and forth).
  if (wasmMatMul === null || wasmModuleOfBinding !== backend.wasm) {
    wasmMatMul = backend.wasm.cwrap('BatchMatMul', null,
      ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as WasmMatMul2d
    wasmModuleOfBinding = backend.wasm
  }
  return wasmMatMul
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer)

/** Byte offset of a tensor's data on the wasm heap. */
const offsetOf = (backend: WasmBackendInternals, t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset

/**
 * out[b] = in[b]^T for `batch` row-major [rows, cols] matrices, in plain JS over the heap.
 * Eight source rows at a time: each column of the panel becomes eight consecutive output
 * floats, so writes are sequential and the eight reads walk eight rows in step. That is ~3×
 * faster than a 32×32 tiled loop here and ~5× faster than the stock Transpose kernel.
 */
function transposeLastTwo(backend: WasmBackendInternals, x: TensorInfo, batch: number, rows: number, cols: number): TensorInfo {
  const out = backend.makeOutput([batch, cols, rows], 'float32')
  // Read HEAPF32 after makeOutput: an allocation may grow (and replace) the heap buffer.
  const heap = backend.wasm.HEAPF32
  const src0 = offsetOf(backend, x) >>> 2
  const dst0 = offsetOf(backend, out) >>> 2
  const panelRows = rows - (rows % 8)
  for (let b = 0; b < batch; b++) {
    const src = src0 + b * rows * cols
    const dst = dst0 + b * rows * cols
    for (let i = 0; i < panelRows; i += 8) {
      for (let j = 0; j < cols; j++) {
        const s = src + i * cols + j
        const d = dst + j * rows + i
        heap[d] = heap[s]
        heap[d + 1] = heap[s + cols]
        heap[d + 2] = heap[s + 2 * cols]
        heap[d + 3] = heap[s + 3 * cols]
        heap[d + 4] = heap[s + 4 * cols]
        heap[d + 5] = heap[s + 5 * cols]
        heap[d + 6] = heap[s + 6 * cols]
        heap[d + 7] = heap[s + 7 * cols]
      }
    }
    for (let i = panelRows; i < rows; i++) {
      for (let j = 0; j < cols; j++) heap[dst + j * rows + i] = heap[src + i * cols + j]
    }
  }
  return out
}

/** Registers `size` floats at `byteOffset` as a fresh tensor id the wasm module can read or write. */
function registerView(backend: WasmBackendInternals, byteOffset: number, size: number): number {
  const id = backend.dataIdNextNumber++
  backend.wasm.tfjs.registerTensor(id, size, byteOffset)
  return id
}

function batchMatMul(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as WasmBackendInternals
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo }
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA: boolean; transposeB: boolean }
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('BatchMatMul: float32 only')
  const matmul = bind(backend)

  const aRank = a.shape.length
  const bRank = b.shape.length
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2))
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2))
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2]
  const kA = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1]
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2]
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1]
  if (kA !== kB) throw new Error(`BatchMatMul: inner dimensions ${kA} and ${kB} differ (${a.shape} × ${b.shape})`)
  const k = kA
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2))
  const batch = tf.util.sizeFromShape(outBatchShape)
  // Broadcasting that is not "one side has no batch" (e.g. [2,1,..] × [1,3,..]) is rare; refuse it
  // loudly rather than compute it wrong.
  if (!(batchA === batch || batchA === 1) || !(batchB === batch || batchB === 1)) {
    throw new Error(`BatchMatMul: unsupported broadcast ${a.shape} × ${b.shape}`)
  }
  // An empty inner dimension: every entry is an empty sum. XNNPACK refuses such a product and
  // would leave the output as the heap had it.
  if (k === 0) {
    const out = backend.makeOutput([...outBatchShape, m, n], 'float32')
    const start = offsetOf(backend, out) >>> 2
    backend.wasm.HEAPF32.fill(0, start, start + batch * m * n)
    return out
  }
  if (native) {
    const route = nativeRoute(batch, m, k, n, transposeA)
    if (route === 'native') return nativeBatchMatMul(backend, native, { a, b, transposeA, transposeB, batchA, batchB, m, k, n, outBatchShape })
    if (route === 'native, turned round') return transposedProduct(backend, { a, b, transposeB, m, n, outBatchShape })
  }

  // 0. XNNPACK copies the right operand into its packed layout on every call with a new tensor
  //    (it caches the packing only per tensor, which pays off for weights). For a thin result
  //    of two activations — LoRA's dB = uᵀ·dy, [r, tokens]·[tokens, out] — packing the big dy
  //    costs more than the product (it measured ~5 ms in a training step for 4 MFLOP). Compute
  //    Cᵀ = op(b)ᵀ·op(a)ᵀ instead, so the big operand is the left one, and transpose the small
  //    result back. Only for transposeA (a gradient's xᵀ·dy): a thin plain product usually has
  //    a weight on the right, whose packing is cached.
  if (transposeA && batch === 1 && n > 0 && m * 4 <= n) return transposedProduct(backend, { a, b, transposeB, m, n, outBatchShape })

  // 1. Materialise transposes so both operands are plain row-major [batch, m, k] and [batch, k, n].
  const temps: TensorInfo[] = []
  let aPlain = a
  let bPlain = b
  if (transposeA) { aPlain = transposeLastTwo(backend, a, batchA, k, m); temps.push(aPlain) }
  if (transposeB) { bPlain = transposeLastTwo(backend, b, batchB, n, k); temps.push(bPlain) }

  const out = backend.makeOutput([...outBatchShape, m, n], 'float32')

  // 2. Decide how many 2-D products to run. If only `a` is batched, its batches stack into rows:
  //    [batch, m, k] · [k, n] is [batch·m, k] · [k, n]. Otherwise loop over the batch.
  const foldIntoRows = batchB === 1
  const calls = foldIntoRows ? 1 : batch
  const rows = foldIntoRows ? batch * m : m
  const aShape = shapeBytes([1, rows, k])
  const bShape = shapeBytes([1, k, n])
  if (calls === 1) {
    // One product over whole tensors: pass their own ids, so XNNPACK's cache of packed weights
    // (keyed by b's id) is reused across calls — a frozen weight is packed once per run.
    const idOf = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).id
    matmul(idOf(aPlain), aShape, 3, idOf(bPlain), bShape, 3, false, false, idOf(out))
  } else {
    const aOff = offsetOf(backend, aPlain)
    const bOff = offsetOf(backend, bPlain)
    const outOff = offsetOf(backend, out)
    for (let i = 0; i < calls; i++) {
      const aIdx = batchA === 1 ? 0 : i
      const bIdx = batchB === 1 ? 0 : i
      const aId = registerView(backend, aOff + aIdx * rows * k * 4, rows * k)
      const bId = registerView(backend, bOff + bIdx * k * n * 4, k * n)
      const outId = registerView(backend, outOff + i * rows * n * 4, rows * n)
      matmul(aId, aShape, 3, bId, bShape, 3, false, false, outId)
      // Unregistering a view frees nothing on the heap, only the id (and XNNPACK's packed copy of b).
      backend.wasm.tfjs.disposeData(aId)
      backend.wasm.tfjs.disposeData(bId)
      backend.wasm.tfjs.disposeData(outId)
    }
  }
  for (const t of temps) backend.disposeData(t.dataId)
  return out
}

/** Inner dimensions up to this (LoRA's ranks) are XNNPACK's even with native matmul. */
const SMALL_INNER = 16

/**
 * Where a product goes when native matmul is installed (measured on the bench's shapes, fresh
 * operands each call, 2 threads):
 * - 'xnnpack': an inner dimension of LoRA's rank (u·B, g·Aᵀ: [tokens, r]·[r, out]). XNNPACK's
 *   kernels are built for a few lanes of k; onnxruntime's took about twice as long ([1024, 8]·[8, 256]:
 *   375 µs against 166 µs, [1024, 8]·[8, 512]: 796 against 331).
 * - 'native, turned round': a transposed left operand with a thin result (LoRA's dA = xᵀ·g,
 *   [in, tokens]·[tokens, r]), slower on onnxruntime than Cᵀ = gᵀ·x, [r, tokens]·[tokens, in], with the
 *   small result transposed back ([1024, 256]ᵀ·[1024, 8]: 469 µs against 233 µs).
 * - 'native': everything else.
 */
export type NativeRoute = 'native' | 'native, turned round' | 'xnnpack'
export function nativeRoute(batch: number, m: number, k: number, n: number, transposeA: boolean): NativeRoute {
  if (batch !== 1) return 'native'
  // Rank first: XNNPACK turns a thin transposed product round itself (batchMatMul's step 0), and
  // the product turned round here must not come back turned again.
  if (k <= SMALL_INNER) return 'xnnpack'
  return transposeA && m > 0 && n * 4 <= m ? 'native, turned round' : 'native'
}

/** op(a)·op(b) for a transposeA product, computed as (op(b)ᵀ·a)ᵀ: [n, k]·[k, m], then transposed back. */
function transposedProduct(backend: WasmBackendInternals, p: { a: TensorInfo; b: TensorInfo; transposeB: boolean; m: number; n: number; outBatchShape: number[] }): TensorInfo {
  const outT = batchMatMul({ inputs: { a: p.b, b: p.a }, backend, attrs: { transposeA: !p.transposeB, transposeB: false } })
  const out = transposeLastTwo(backend, outT, 1, p.n, p.m)
  backend.disposeData(outT.dataId)
  return { ...out, shape: [...p.outBatchShape, p.m, p.n] }
}

interface Product {
  a: TensorInfo
  b: TensorInfo
  transposeA: boolean
  transposeB: boolean
  batchA: number
  batchB: number
  m: number
  k: number
  n: number
  outBatchShape: number[]
}

/** The product on native code, reading and writing the heap in place (native-matmul.ts). */
function nativeBatchMatMul(backend: WasmBackendInternals, matmul: NativeMatMul, p: Product): TensorInfo {
  const { m, k, n, batchA, batchB } = p
  const batch = Math.max(batchA, batchB)
  const out = backend.makeOutput([...p.outBatchShape, m, n], 'float32')
  if (batch * m * n === 0) return out
  // Read HEAPF32 after makeOutput: an allocation may grow (and replace) the heap buffer.
  const heap = backend.wasm.HEAPF32
  const view = (t: TensorInfo, size: number) => heap.subarray(offsetOf(backend, t) >>> 2, (offsetOf(backend, t) >>> 2) + size)
  const outView = view(out, batch * m * n)
  // op(a) is [m, k]; as stored it is [k, m] under transposeA. Likewise b.
  let aShape: Shape3 = p.transposeA ? [batchA, k, m] : [batchA, m, k]
  const bShape: Shape3 = p.transposeB ? [batchB, n, k] : [batchB, k, n]
  let outShape: Shape3 = [batch, m, n]
  // A batched plain `a` against one `b` is one taller product: [batch·m, k] · [k, n].
  if (batchB === 1 && batchA > 1 && !p.transposeA) {
    aShape = [1, batchA * m, k]
    outShape = [1, batchA * m, n]
  }
  matmul.matMul(view(p.a, batchA * m * k), aShape, view(p.b, batchB * k * n), bShape, p.transposeA, p.transposeB, outView, outShape)
  return out
}

/** The native matmul the kernel uses, or null for XNNPACK (set by installWasmBatchMatMul). */
let native: NativeMatMul | null = null

/**
 * Installs the kernel on the wasm backend (idempotent). With `nativeMatMul`, every product runs
 * there; without, on XNNPACK. Call after the wasm backend is
 * registered; the replacement is process-wide, like every tfjs kernel registration.
 */
export function installWasmBatchMatMul(nativeMatMul: NativeMatMul | null = null): void {
  native = nativeMatMul
  const config: KernelConfig = { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul as KernelConfig['kernelFunc'] }
  if (tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc === config.kernelFunc) return
  tf.unregisterKernel('BatchMatMul', 'wasm')
  tf.registerKernel(config)
}

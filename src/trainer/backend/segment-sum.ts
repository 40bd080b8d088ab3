// UnsortedSegmentSum — the gradient of tf.gather — as a plain scatter-add.
//
// Why: the wasm backend has no UnsortedSegmentSum at all, so the gradient of an embedding
// lookup (or of any row gather) cannot be taken there; the cpu backend has one but it loops
// over every segment with a full-size equal/multiply/sum, O(vocab · tokens · dim), which is
// unusable at real vocabulary sizes. Both are replaced by one O(tokens · dim) pass.
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core'

/** out[segmentIds[i], :] += x[i, :]; ids outside [0, numSegments) are dropped, as in TensorFlow. */
export function scatterAddRows(x: Float32Array, segmentIds: Int32Array, numSegments: number, out: Float32Array): void {
  const rows = segmentIds.length
  const width = rows === 0 ? 0 : x.length / rows
  out.fill(0)
  for (let i = 0; i < rows; i++) {
    const seg = segmentIds[i]
    if (seg < 0 || seg >= numSegments) continue
    const src = i * width
    const dst = seg * width
    for (let j = 0; j < width; j++) out[dst + j] += x[src + j]
  }
}

interface Args { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }

function checkedShapes(args: Args): { x: TensorInfo; ids: TensorInfo; numSegments: number; outShape: number[] } {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo }
  const numSegments = (args.attrs as { numSegments: number }).numSegments
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(`UnsortedSegmentSum: segment ids ${segmentIds.shape} must be 1-D over the rows of ${x.shape}`)
  }
  if (x.dtype !== 'float32') throw new Error('UnsortedSegmentSum: float32 only')
  return { x, ids: segmentIds, numSegments, outShape: [numSegments, ...x.shape.slice(1)] }
}

interface WasmInternals {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array }
  dataIdMap: { get(dataId: object): { memoryOffset: number } }
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
}

function wasmSegmentSum(args: Args): TensorInfo {
  const backend = args.backend as WasmInternals
  const { x, ids, numSegments, outShape } = checkedShapes(args)
  const out = backend.makeOutput(outShape, 'float32')
  // Views are taken after the allocation, which may have grown the heap.
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset
  const f32 = backend.wasm.HEAPF32
  const xView = f32.subarray(at(x) >>> 2, (at(x) >>> 2) + tf.util.sizeFromShape(x.shape))
  const idView = backend.wasm.HEAP32.subarray(at(ids) >>> 2, (at(ids) >>> 2) + ids.shape[0])
  const outView = f32.subarray(at(out) >>> 2, (at(out) >>> 2) + tf.util.sizeFromShape(outShape))
  scatterAddRows(xView, idView, numSegments, outView)
  return out
}

interface CpuInternals {
  data: { get(dataId: object): { values: unknown } }
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo
}

function cpuSegmentSum(args: Args): TensorInfo {
  const backend = args.backend as CpuInternals
  const { x, ids, numSegments, outShape } = checkedShapes(args)
  const out = new Float32Array(tf.util.sizeFromShape(outShape))
  const idValues = backend.data.get(ids.dataId).values as Int32Array | Float32Array
  scatterAddRows(backend.data.get(x.dataId).values as Float32Array, Int32Array.from(idValues), numSegments, out)
  return backend.makeTensorInfo(outShape, 'float32', out)
}

const KERNELS: Record<string, KernelConfig['kernelFunc']> = {
  wasm: wasmSegmentSum as KernelConfig['kernelFunc'],
  cpu: cpuSegmentSum as KernelConfig['kernelFunc'],
}

/** Installs the scatter-add kernel for `backendName` if we have one for it (idempotent). */
export function installSegmentSum(backendName: string): void {
  const kernelFunc = KERNELS[backendName]
  if (!kernelFunc) return
  if (tf.getKernel('UnsortedSegmentSum', backendName)?.kernelFunc === kernelFunc) return
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName)
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc })
}

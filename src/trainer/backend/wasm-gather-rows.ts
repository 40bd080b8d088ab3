// GatherV2 for the tfjs wasm backend, with a fast path for row lookups.
//
// Why: the stock wasm Gather walks every element through generic stride arithmetic; a
// [1024, 256] row lookup (the embedding, or picking the loss rows out of the hidden states)
// took ~11 ms, about as long as a 134 MFLOP matrix product. A row lookup along axis 0 is one
// contiguous block copy per index, which copyWithin does at memory speed. Anything else
// (another axis, batch dimensions, other dtypes) goes to the stock kernel.
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core'

interface WasmBackendInternals {
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array }
  dataIdMap: { get(dataId: object): { memoryOffset: number } }
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo
  disposeData(dataId: object): boolean
}

type Args = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }

/** The stock kernel, for everything but float32 row lookups; set when installed. */
let stock: KernelConfig | null = null

function gatherV2(args: Args): TensorInfo | TensorInfo[] {
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo }
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number }
  const rowLookup = tf.util.parseAxisParam(axis, x.shape)[0] === 0 && batchDims === 0 && x.dtype === 'float32' && indices.dtype === 'int32'
  if (!rowLookup) return (stock!.kernelFunc as KernelFunc)(args as Parameters<KernelFunc>[0])

  const backend = args.backend as WasmBackendInternals
  const rows = x.shape[0]
  const width = tf.util.sizeFromShape(x.shape.slice(1))
  const count = tf.util.sizeFromShape(indices.shape)
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32')
  // Views are taken after the allocation, which may have grown (and replaced) the heap.
  const heap = backend.wasm.HEAPF32
  const src = backend.dataIdMap.get(x.dataId).memoryOffset >>> 2
  const dst = backend.dataIdMap.get(out.dataId).memoryOffset >>> 2
  const ids = backend.wasm.HEAP32.subarray(backend.dataIdMap.get(indices.dataId).memoryOffset >>> 2).subarray(0, count)
  for (let i = 0; i < count; i++) {
    const row = ids[i]
    if (!(row >= 0 && row < rows)) {
      backend.disposeData(out.dataId)
      throw new Error(`GatherV2: the index value ${row} is not in [0, ${rows - 1}]`)
    }
    heap.copyWithin(dst + i * width, src + row * width, src + (row + 1) * width)
  }
  return out
}

/** Installs the kernel on the wasm backend (idempotent, process-wide). */
export function installWasmRowGather(): void {
  const current = tf.getKernel('GatherV2', 'wasm')
  if (!current || current.kernelFunc === gatherV2) return
  stock = current
  tf.unregisterKernel('GatherV2', 'wasm')
  // Keep the stock setup: it binds the wasm function the fallback calls when the backend starts.
  tf.registerKernel({ kernelName: 'GatherV2', backendName: 'wasm', kernelFunc: gatherV2 as KernelConfig['kernelFunc'], setupFunc: current.setupFunc })
}

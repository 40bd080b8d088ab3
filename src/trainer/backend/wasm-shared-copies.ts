// Zero-copy Identity, and Cast to the same dtype, for the tfjs wasm backend.
//
// Why: while a gradient tape records, tfjs keeps every tensor a backward pass needs by
// cloning it (engine.saveTensorsForBackwardMode and customGrad's save both call clone, which
// runs Identity), and the gradient of every multiply casts the other operand to float32 — a
// float32 tensor already. The stock wasm kernels copy the data each time, so a training step
// copied most of its activations once more (~7% of a LoRA step, and as much memory again).
// The cpu backend shares the buffer and bumps a reference count instead; these kernels do the
// same on wasm, exactly as wasm's own Reshape does. Sharing is safe because no tfjs kernel
// writes into its inputs: every kernel (ours included) writes only to outputs it allocates.
import * as tf from '@tensorflow/tfjs-core'
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core'

interface RefCountedBackend {
  incRef(dataId: object): void
}

type Args = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }

function share(x: TensorInfo, backend: unknown): TensorInfo {
  ;(backend as RefCountedBackend).incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}

function sharedIdentity(args: Args): TensorInfo {
  return share((args.inputs as { x: TensorInfo }).x, args.backend)
}

/** The stock Cast, for real conversions; set when installed. */
let stockCast: KernelConfig | null = null

function castSharingSameDtype(args: Args): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as { x: TensorInfo }
  if (x.dtype === (args.attrs as { dtype: string }).dtype && x.dtype !== 'string') return share(x, args.backend)
  return (stockCast!.kernelFunc as KernelFunc)(args as Parameters<KernelFunc>[0])
}

function replace(kernelName: string, kernelFunc: (args: Args) => TensorInfo | TensorInfo[]): KernelConfig | null {
  const current = tf.getKernel(kernelName, 'wasm')
  if (!current || current.kernelFunc === kernelFunc) return null
  tf.unregisterKernel(kernelName, 'wasm')
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as KernelConfig['kernelFunc'], setupFunc: current.setupFunc })
  return current
}

/** Installs both kernels on the wasm backend (idempotent, process-wide). */
export function installWasmSharedCopies(): void {
  replace('Identity', sharedIdentity)
  stockCast = replace('Cast', castSharingSameDtype) ?? stockCast
}

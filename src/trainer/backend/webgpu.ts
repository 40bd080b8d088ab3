// The webgpu backend in Node: tfjs-backend-webgpu over Dawn's Node bindings (npm `webgpu`),
// which drive the GPU through Vulkan (Metal on macOS, D3D12 on Windows).
//
// We create the GPU device ourselves rather than letting tfjs-backend-webgpu do it at import:
//  - to request the adapter's own limits: WebGPU's defaults allow 8 storage buffers per kernel
//    and a 128 MiB binding; a kernel over the buffer limit fails validation and its output keeps
//    stale data, and a binding over the size limit reads as zeros or garbage;
//  - to hear about those failures at all: WebGPU reports them as `uncapturederror` events and a
//    `device.lost` promise, never as exceptions. Both are recorded here as fatal, and
//    `throwIfGpuFailed()` (called by the trainer after every step) turns them into an error.
import * as tf from '@tensorflow/tfjs-core'
import type * as Dawn from 'webgpu'
import type { AdapterReport, DeviceLimits } from './gpu-adapter.ts'

/** The live device and what it is. */
export interface WebGpuDevice {
  device: GPUDevice
  adapter: AdapterReport
}

export interface WebGpuOptions {
  /**
   * Request the adapter's maxima for the limits the trainer depends on (default true).
   * false keeps WebGPU's defaults: only tests want that, to show the traps they guard.
   */
  raiseLimits?: boolean
  /** Extra Dawn options for `create()`, e.g. `adapter=NVIDIA` or `backend=vulkan`. */
  dawnOptions?: string[]
}

let current: WebGpuDevice | null = null
let failure: Error | null = null

/** The device the registered webgpu backend runs on, or null before `registerWebGpu`. */
export function currentWebGpu(): WebGpuDevice | null {
  return current
}

/** The first GPU validation error, out-of-memory or device loss since the device was made. */
export function gpuFailure(): Error | null {
  return failure
}

/** Throws the recorded GPU failure, if any: results computed after one cannot be trusted. */
export function throwIfGpuFailed(): void {
  if (failure) throw failure
}

function recordFailure(err: Error): void {
  failure ??= err
}

const LIMIT_NAMES: readonly (keyof DeviceLimits)[] = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
]

/** The limits tfjs-backend-webgpu's own factory raises, plus the ones our guards rely on. */
const RAISED_LIMITS = [
  ...LIMIT_NAMES, 'maxComputeWorkgroupsPerDimension', 'maxComputeWorkgroupSizeX',
] as const

function readLimits(limits: GPUSupportedLimits): DeviceLimits {
  return Object.fromEntries(LIMIT_NAMES.map((n) => [n, limits[n]])) as unknown as DeviceLimits
}

/** Loads dawn.node and exposes the WebGPU globals tfjs-backend-webgpu expects (navigator.gpu, GPUBufferUsage, …). */
async function loadDawn(dawnOptions: string[]): Promise<GPU> {
  let dawn: typeof Dawn
  try {
    dawn = await import('webgpu')
  } catch (err) {
    throw new Error(`the webgpu (Dawn) package did not load: ${(err as Error).message}`)
  }
  Object.assign(globalThis, dawn.globals)
  const gpu = dawn.create(dawnOptions)
  // Node ≥ 21 has a read-only navigator getter: replace it with a plain value.
  const navigator = (globalThis as { navigator?: object }).navigator ?? {}
  Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(navigator), { gpu }), configurable: true, writable: true })
  return gpu
}

async function openDevice(gpu: GPU, raiseLimits: boolean): Promise<WebGpuDevice> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter) throw new Error('no WebGPU adapter: no Vulkan driver found (install the GPU vendor\'s Vulkan ICD, or Mesa ≥ 23 for a software one)')
  const requiredLimits: Record<string, number> = {}
  if (raiseLimits) for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name]
  // Kernels tfjs uses when the adapter offers them (timestamps for its profiler).
  const requiredFeatures = (['timestamp-query'] as GPUFeatureName[]).filter((f) => adapter.features.has(f))
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures })
  const info = adapter.info
  return {
    device,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      limits: readLimits(device.limits),
    },
  }
}

/** Makes every GPU error fatal for this device (and ignores the loss we cause by destroying it). */
function watchForFailures(device: GPUDevice): void {
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error
    recordFailure(new Error(`GPU error (${error.constructor.name}): ${error.message}`))
  })
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') recordFailure(new Error(`GPU device lost: ${info.message}`))
  })
}

/**
 * Opens a WebGPU device and registers it as tfjs's `webgpu` backend (replacing any earlier
 * one). Does not make it the current backend: `tf.setBackend('webgpu')` does.
 */
export async function registerWebGpu(options: WebGpuOptions = {}): Promise<WebGpuDevice> {
  // Imported before navigator.gpu exists, so the package does not register a backend of its own.
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu')
  const gpu = await loadDawn(options.dawnOptions ?? [])
  const opened = await openDevice(gpu, options.raiseLimits ?? true)
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
  if (current) current.device.destroy()
  failure = null
  watchForFailures(opened.device)
  const adapterInfo = { vendor: opened.adapter.vendor, architecture: opened.adapter.architecture } as GPUAdapterInfo
  tf.registerBackend('webgpu', () => new WebGPUBackend(opened.device, adapterInfo), 0)
  current = opened
  return opened
}

/** Closes the device and forgets the backend (used when auto-selection passes over it). */
export function unregisterWebGpu(): void {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
  current?.device.destroy()
  current = null
}

/** The limits of the device tfjs is computing on now, or null when the current backend is not webgpu. */
export function activeGpuLimits(): DeviceLimits | null {
  return current && tf.getBackend() === 'webgpu' ? current.adapter.limits : null
}

// What a WebGPU adapter is, in plain data, and whether it is a real GPU.
//
// Why this matters: Dawn picks whatever Vulkan driver the loader offers. On a GPU node where the
// NVIDIA Vulkan driver is not mounted into the container, that is Mesa's lavapipe (llvmpipe), a
// CPU rasteriser that is slower than the wasm backend. It works, so nothing fails: the job just
// runs 100× slower than paid for. "GPU required" turns that into a start-up error.

/** The adapter facts the trainer logs, reports as a job event, and sizes its work by. */
export interface AdapterReport {
  vendor: string
  architecture: string
  device: string
  description: string
  /** WebGPU's own flag for a software/fallback adapter (Dawn sets it for lavapipe and SwiftShader). */
  isFallbackAdapter: boolean
  limits: DeviceLimits
}

/** The device limits the trainer depends on (as granted to the device, not merely offered). */
export interface DeviceLimits {
  /** Largest buffer one shader binding may see; a bigger tensor reads as zeros or garbage. */
  maxStorageBufferBindingSize: number
  maxBufferSize: number
  /** Storage buffers one kernel may bind; a kernel with more inputs fails validation. */
  maxStorageBuffersPerShaderStage: number
  maxComputeWorkgroupStorageSize: number
  maxComputeInvocationsPerWorkgroup: number
}

/** The names CPU implementations of Vulkan/WebGPU give themselves. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i

/** True for a CPU implementation of the GPU API (lavapipe/llvmpipe, SwiftShader, WARP). */
export function isSoftwareAdapter(a: Pick<AdapterReport, 'vendor' | 'architecture' | 'device' | 'description' | 'isFallbackAdapter'>): boolean {
  if (a.isFallbackAdapter) return true
  if (a.architecture.toLowerCase() === 'software') return true
  return SOFTWARE_NAMES.test(`${a.vendor} ${a.device} ${a.description}`)
}

const mib = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MiB`

/** One line for logs and job events. */
export function describeAdapter(a: AdapterReport): string {
  const name = [a.vendor, a.architecture, a.device].filter((s) => s !== '').join(' / ') || 'unknown adapter'
  const kind = isSoftwareAdapter(a) ? 'software' : 'hardware'
  const l = a.limits
  return `${name} (${kind}${a.description ? `; ${a.description}` : ''}); limits: binding ${mib(l.maxStorageBufferBindingSize)}, ` +
    `buffer ${mib(l.maxBufferSize)}, ${l.maxStorageBuffersPerShaderStage} storage buffers per stage`
}

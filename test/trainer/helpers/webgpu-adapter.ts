// Whether this machine has a WebGPU adapter (any: lavapipe counts), for tests to skip without one.
// CI gets lavapipe from .ci/install-vulkan.sh; a machine without Vulkan skips the GPU tests.

/** A reason to skip, or false when an adapter is there. */
export async function webGpuSkipReason(): Promise<string | false> {
  try {
    const dawn = await import('webgpu')
    const adapter = await dawn.create([]).requestAdapter()
    return adapter ? false : 'no WebGPU adapter (no Vulkan driver; run .ci/install-vulkan.sh for Mesa lavapipe)'
  } catch (err) {
    return `the webgpu (Dawn) package does not load here: ${(err as Error).message}`
  }
}

// Picks and initialises the tfjs backend the trainer computes on.
//
// Order when nothing is asked for: tensorflow (native libtensorflow through tfjs-node-gpu,
// then tfjs-node — both optional, loaded only if installed) → webgpu (Dawn over Vulkan, see
// webgpu.ts; in auto mode only on a hardware adapter) → wasm (XNNPACK) → cpu (plain JS).
//
// "GPU required" (requireGpu) refuses to start on anything but a GPU: a software WebGPU adapter
// (Mesa's lavapipe, which Dawn silently picks when the NVIDIA Vulkan driver is not mounted), a
// tfjs-node-gpu that fell back to the CPU (no CUDA libraries found), tfjs-node, wasm or cpu.
import * as tf from '@tensorflow/tfjs-core'
import { createRequire } from 'node:module'
import path from 'node:path'
import { forbidSyncReads } from './forbid-sync-reads.ts'
import { type AdapterReport, describeAdapter, isSoftwareAdapter } from './gpu-adapter.ts'
import { registerGradients } from './register-gradients.ts'
import { installSegmentSum } from './segment-sum.ts'
import { installAdamWUpdate } from './adamw-update.ts'
import { installWasmBatchMatMul } from './wasm-batch-matmul.ts'
import { installWasmRowGather } from './wasm-gather-rows.ts'
import { installWasmSharedCopies } from './wasm-shared-copies.ts'
import { currentWebGpu, gpuFailure, registerWebGpu, unregisterWebGpu } from './webgpu.ts'
import { cpuBudget } from './cpu-budget.ts'
import { MAX_WASM_THREADS, registerThreadedWasm, wasmThreadCount } from './wasm-threads.ts'
import { loadNativeMatMul, type NativeMatMul } from './native-matmul.ts'

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

/** Tried in this order when no backend is requested. */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

export interface SelectedBackend {
  /** Our name for it. */
  name: BackendName
  /** tfjs's name for it (`tf.getBackend()`). */
  tfName: string
  /** How it was chosen: 'chosen automatically' or 'requested'. */
  detail: string
  /** Backends tried before it and why each did not load ('tensorflow: … is not installed'). */
  passedOver: string[]
  /** Whether it computes on a GPU (hardware WebGPU adapter, or libtensorflow on a CUDA device). */
  gpu: boolean
  /** The WebGPU adapter, for the webgpu backend. */
  adapter: AdapterReport | null
  /**
   * Threads the wasm backend computes with: onnxruntime's for its products where it computes them,
   * else the wasm module's own (1 elsewhere: the other backends manage their own).
   */
  threads: number
  /** What computes the wasm backend's matrix products: onnxruntime (native) or xnnpack; null elsewhere. */
  matmul: MatMulEngine | null
}

/** What computes the wasm backend's matrix products (native-matmul.ts). */
export type MatMulEngine = 'onnxruntime' | 'xnnpack'
/** SKILLET_TRAINER_MATMUL: an engine, or 'auto' (onnxruntime where it loads, else xnnpack). */
export type MatMulSetting = MatMulEngine | 'auto'
export const MATMUL_SETTINGS: readonly MatMulSetting[] = ['auto', 'onnxruntime', 'xnnpack']

/** A thread count, or 'auto': the cores this process may use (cpu-budget.ts). */
export type ThreadSetting = number | 'auto'

export interface SelectOptions {
  /** Refuse to start unless the chosen backend computes on a GPU. */
  requireGpu?: boolean
  /**
   * Threads for the wasm backend (default 'auto'). Fixed by the first initialisation of the wasm
   * backend in a process: a later, different count is not applied (the line says what runs).
   */
  threads?: ThreadSetting
  /** The wasm backend's matmul engine (default 'auto'). */
  matmul?: MatMulSetting
}

/** What a loader made ready: tfjs's name for it, and what it runs on. */
interface Loaded {
  tfName: string
  adapter?: AdapterReport
  /** Why the wasm backend runs on fewer threads than asked for, if it does. */
  threadNote?: string
  /** The wasm backend's matmul engine, and why it is not onnxruntime where 'auto' fell back to XNNPACK. */
  matmul?: MatMulEngine
  matmulNote?: string
}

const require = createRequire(import.meta.url)

/**
 * Imports a package by a name TypeScript cannot resolve statically (it may be absent).
 * Returns null when it is not installed.
 */
async function importOptional(name: string): Promise<unknown> {
  try {
    require.resolve(name)
  } catch {
    return null
  }
  return import(name)
}

async function loadTensorflow(): Promise<Loaded> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (await importOptional(pkg)) return { tfName: 'tensorflow' }
  }
  throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed')
}

/**
 * The native matmul for `threads` threads, loaded once per process (its thread pool lives as long
 * as the process; a later, different count reuses the first). Throws where onnxruntime does not load.
 */
function nativeMatMul(threads: number): NativeMatMul {
  if (nativeMatMulLoaded instanceof Error) throw nativeMatMulLoaded
  try {
    nativeMatMulLoaded ??= loadNativeMatMul(threads)
  } catch (err) {
    nativeMatMulLoaded = err as Error
    throw err
  }
  return nativeMatMulLoaded
}
let nativeMatMulLoaded: NativeMatMul | Error | undefined
const nativeThreadCount = () => (nativeMatMulLoaded instanceof Error || !nativeMatMulLoaded ? 1 : nativeMatMulLoaded.threads)

async function loadWasm(threads: number, matmul: MatMulSetting): Promise<Loaded> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  // In Node the .wasm binaries are read from the package's dist folder. With more than one
  // thread, the threaded-SIMD binary is started by our own loader (wasm-threads.ts); tfjs's
  // would refuse in Node. The first initialisation in a process decides.
  const loaded: Loaded = { tfName: 'wasm' }
  let native: NativeMatMul | null = null
  if (matmul !== 'xnnpack') {
    try {
      native = nativeMatMul(threads)
      loaded.matmul = 'onnxruntime'
    } catch (err) {
      if (matmul === 'onnxruntime') throw new Error(`SKILLET_TRAINER_MATMUL=onnxruntime but ${(err as Error).message}`)
      loaded.matmulNote = `matrix products on XNNPACK (${(err as Error).message})`
    }
  }
  // The wasm backend's own threads only ever help XNNPACK's products: with native ones, the
  // single-threaded binary (no thread pool spinning beside onnxruntime's).
  const wasmThreads = native ? 1 : threads
  if (tf.findBackend('wasm') === null || !wasmPathsSet) {
    const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))
    wasm.setWasmPaths(distDir + path.sep)
    wasmPathsSet = true
    if (wasmThreads > 1) {
      try {
        // The callback runs during tf.setBackend, before selectBackend logs the note.
        registerThreadedWasm(wasmThreads, (reason) => { loaded.threadNote = `one thread: ${reason}` })
      } catch (err) {
        loaded.threadNote = `one thread: ${(err as Error).message}`
      }
    }
  }
  loaded.matmul ??= 'xnnpack'
  installWasmBatchMatMul(native)
  installWasmSharedCopies()
  installWasmRowGather()
  installSegmentSum('wasm')
  installAdamWUpdate('wasm')
  return loaded
}
let wasmPathsSet = false

/** The thread count a setting means here: 'auto' is the cores this process may use; at most MAX_WASM_THREADS. */
export function resolveThreads(setting: ThreadSetting, budget: () => number = cpuBudget): number {
  return Math.min(MAX_WASM_THREADS, Math.max(1, setting === 'auto' ? budget() : setting))
}

/**
 * tfjs-backend-webgpu on a device we open (webgpu.ts). In auto mode a software adapter is passed
 * over: lavapipe is slower than wasm, so it is only worth using when asked for by name (tests).
 */
async function loadWebGpu(auto: boolean): Promise<Loaded> {
  // Keep a healthy device (and the tensors on it); a failed one is replaced.
  const existing = currentWebGpu()
  const { adapter } = existing && !gpuFailure() ? existing : await registerWebGpu()
  if (auto && isSoftwareAdapter(adapter)) {
    unregisterWebGpu()
    throw new Error(`passed over in auto mode: a software adapter (${adapter.device || adapter.description}), slower than wasm`)
  }
  return { tfName: 'webgpu', adapter }
}

async function loadCpu(): Promise<Loaded> {
  await import('@tensorflow/tfjs-backend-cpu')
  installSegmentSum('cpu')
  installAdamWUpdate('cpu')
  return { tfName: 'cpu' }
}

const LOADERS: Record<BackendName, (auto: boolean, threads: number, matmul: MatMulSetting) => Promise<Loaded>> = {
  tensorflow: loadTensorflow,
  webgpu: loadWebGpu,
  wasm: (_auto, threads, matmul) => loadWasm(threads, matmul),
  cpu: loadCpu,
}

/** libtensorflow's own answer (tfjs-node's backend): built for CUDA, and found a CUDA device. */
function tensorflowOnGpu(): boolean {
  const backend = tf.backend() as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean }
  return backend.isGPUPackage === true && backend.isUsingGpuDevice === true
}

/** Why `loaded` is not a GPU, or null when it is. */
export function notAGpuReason(name: BackendName, adapter: AdapterReport | null, tensorflowGpu: boolean): string | null {
  if (name === 'webgpu') return adapter && isSoftwareAdapter(adapter) ? `the WebGPU adapter is a software one (${describeAdapter(adapter)})` : null
  if (name === 'tensorflow') return tensorflowGpu ? null : 'libtensorflow runs on the CPU (tfjs-node, or tfjs-node-gpu without a usable CUDA device)'
  return `${name} computes on the CPU`
}

/**
 * SKILLET_TRAINER_BACKEND (auto|tensorflow|webgpu|wasm|cpu), SKILLET_TRAINER_REQUIRE_GPU (1/true),
 * SKILLET_TRAINER_THREADS (auto, or a count of at least 1: the wasm backend's threads) and
 * SKILLET_TRAINER_MATMUL (auto|onnxruntime|xnnpack: what computes the wasm backend's matmuls).
 */
export function backendSettingsFromEnv(env: Record<string, string | undefined>): { requested: BackendName | 'auto'; requireGpu: boolean; threads: ThreadSetting; matmul: MatMulSetting } {
  const flag = (env.SKILLET_TRAINER_REQUIRE_GPU ?? '').toLowerCase()
  if (!['', '0', 'false', 'no', '1', 'true', 'yes'].includes(flag)) throw new Error(`SKILLET_TRAINER_REQUIRE_GPU must be true or false (got "${flag}")`)
  return { requested: parseBackendName(env.SKILLET_TRAINER_BACKEND), requireGpu: ['1', 'true', 'yes'].includes(flag), threads: parseThreads(env.SKILLET_TRAINER_THREADS), matmul: parseMatMul(env.SKILLET_TRAINER_MATMUL) }
}

/** SKILLET_TRAINER_MATMUL: '', 'auto' or undefined mean onnxruntime where it loads. */
export function parseMatMul(value: string | undefined): MatMulSetting {
  const v = (value ?? '').trim().toLowerCase()
  if (v === '') return 'auto'
  if ((MATMUL_SETTINGS as readonly string[]).includes(v)) return v as MatMulSetting
  throw new Error(`SKILLET_TRAINER_MATMUL must be one of ${MATMUL_SETTINGS.join(', ')} (got "${value}")`)
}

/** SKILLET_TRAINER_THREADS: '', 'auto' or undefined mean the cores this process may use. */
export function parseThreads(value: string | undefined): ThreadSetting {
  const v = (value ?? '').trim().toLowerCase()
  if (v === '' || v === 'auto') return 'auto'
  if (/^\d+$/.test(v) && Number(v) >= 1) return Number(v)
  throw new Error(`SKILLET_TRAINER_THREADS must be auto or an integer of at least 1 (got "${value}")`)
}

/** One line for a job event: the backend and, for webgpu, the adapter and its limits; for wasm, its threads. */
export function describeBackend(selected: SelectedBackend): string {
  const on = selected.adapter ? ` on ${describeAdapter(selected.adapter)}` : selected.gpu ? ' on a CUDA GPU' : ' on the CPU'
  const threads = selected.name === 'wasm' ? `, ${selected.threads} thread${selected.threads === 1 ? '' : 's'}, matmul on ${selected.matmul}` : ''
  return `trainer backend: ${selected.name}${on}${threads} (${selected.detail})`
}

/**
 * One informational line when training runs without a GPU although GPU backends were tried: why
 * each was not used, and what a GPU would need. Null when a GPU is in use or none was tried.
 */
export function gpuHint(selected: SelectedBackend): string | null {
  if (selected.gpu || selected.passedOver.length === 0) return null
  return `no GPU in use (${selected.passedOver.join('; ')}); a GPU needs @tensorflow/tfjs-node-gpu with CUDA, or a Vulkan driver for WebGPU: see docs/gpu.md`
}

/** Parses a user-supplied backend name; 'auto', '' and undefined mean "pick". */
export function parseBackendName(value: string | undefined): BackendName | 'auto' {
  if (value === undefined || value === '' || value === 'auto') return 'auto'
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName
  throw new Error(`unknown trainer backend "${value}" (expected one of auto, ${BACKEND_NAMES.join(', ')})`)
}

/**
 * Initialises a backend and makes it current. `requested` (e.g. from SKILLET_TRAINER_BACKEND,
 * read by the caller's config) forces one backend and fails if it cannot load; 'auto' walks
 * AUTO_ORDER. With `requireGpu`, a backend that is not a GPU is a failure. `log` receives one
 * line saying what was chosen and on what (describeBackend).
 */
export async function selectBackend(requested: BackendName | 'auto' = 'auto', log: (line: string) => void = () => {},
  options: SelectOptions = {}): Promise<SelectedBackend> {
  await registerGradients()
  const auto = requested === 'auto'
  const candidates = auto ? AUTO_ORDER : [requested]
  const failures: string[] = []
  const passedOver: string[] = []
  for (const name of candidates) {
    try {
      const loaded = await LOADERS[name](auto, resolveThreads(options.threads ?? 'auto'), options.matmul ?? 'auto')
      if (!(await tf.setBackend(loaded.tfName))) throw new Error(`tf.setBackend('${loaded.tfName}') returned false`)
      await tf.ready()
      const adapter = loaded.adapter ?? null
      const notGpu = notAGpuReason(name, adapter, name === 'tensorflow' && tensorflowOnGpu())
      if (options.requireGpu && notGpu) {
        if (name === 'webgpu') unregisterWebGpu()
        throw new Error(`a GPU is required but ${notGpu}`)
      }
      // The cpu backend prints a "install tfjs-node" banner on first use; we log our own line.
      if (loaded.tfName === 'cpu') Object.assign(tf.backend(), { firstUse: false })
      // Sync reads crash in Node on webgpu: make the crash say so (forbid-sync-reads.ts).
      if (name === 'webgpu') liftSyncReadBan ??= forbidSyncReads()
      else if (liftSyncReadBan) { liftSyncReadBan(); liftSyncReadBan = null }
      const threads = name === 'wasm' ? (loaded.matmul === 'onnxruntime' ? nativeThreadCount() : wasmThreadCount()) : 1
      const selected: SelectedBackend = { name, tfName: loaded.tfName, detail: auto ? 'chosen automatically' : 'requested', passedOver, gpu: notGpu === null, adapter, threads, matmul: loaded.matmul ?? null }
      log(describeBackend(selected))
      if (loaded.threadNote) log(`wasm backend on ${loaded.threadNote}`)
      if (loaded.matmulNote) log(`wasm backend: ${loaded.matmulNote}`)
      const hint = gpuHint(selected)
      if (hint) log(hint)
      return selected
    } catch (err) {
      failures.push(`${name} unavailable: ${(err as Error).message}`)
      passedOver.push(`${name}: ${(err as Error).message}`)
    }
  }
  throw new Error(`no trainer backend could be loaded: ${failures.join('; ')}`)
}
let liftSyncReadBan: (() => void) | null = null

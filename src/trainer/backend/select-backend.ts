// Picks and initialises the tfjs backend the trainer computes on.
//
// Order when nothing is asked for: tensorflow (native libtensorflow through tfjs-node-gpu,
// then tfjs-node — both optional, loaded only if installed) → wasm (XNNPACK) → cpu (plain JS).
// webgpu is used only when asked for by name: it is the hook for a GPU path in Node, and its
// loader lives in `loadWebGpu` below.
import * as tf from '@tensorflow/tfjs-core'
import { createRequire } from 'node:module'
import path from 'node:path'
import { registerGradients } from './register-gradients.ts'
import { installSegmentSum } from './segment-sum.ts'
import { installWasmBatchMatMul } from './wasm-batch-matmul.ts'

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu']

/** Tried in this order when no backend is requested. */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

export interface SelectedBackend {
  /** Our name for it. */
  name: BackendName
  /** tfjs's name for it (`tf.getBackend()`). */
  tfName: string
  /** Why it was chosen, and what was tried first. */
  detail: string
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

async function loadTensorflow(): Promise<string> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (await importOptional(pkg)) return 'tensorflow'
  }
  throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed')
}

async function loadWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  // In Node the .wasm binaries are read from the package's dist folder. Threads stay off:
  // the threaded build needs browser workers (tfjs reports no thread support in Node).
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))
  if (tf.findBackend('wasm') === null || !wasmPathsSet) {
    wasm.setWasmPaths(distDir + path.sep)
    wasmPathsSet = true
  }
  installWasmBatchMatMul()
  installSegmentSum('wasm')
  return 'wasm'
}
let wasmPathsSet = false

/**
 * The webgpu hook: registers tfjs-backend-webgpu over the `webgpu` (Dawn) package's
 * navigator.gpu. Whether training runs correctly on it is not verified here.
 */
async function loadWebGpu(): Promise<string> {
  const dawn = (await importOptional('webgpu')) as { create?: (opts: string[]) => unknown; globals?: object } | null
  if (!dawn?.create) throw new Error('the webgpu (Dawn) package is not installed')
  if (dawn.globals) Object.assign(globalThis, dawn.globals)
  const g = globalThis as { navigator?: { gpu?: unknown } }
  if (!g.navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: dawn.create([]) }, configurable: true })
  await import('@tensorflow/tfjs-backend-webgpu')
  return 'webgpu'
}

async function loadCpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu')
  installSegmentSum('cpu')
  return 'cpu'
}

const LOADERS: Record<BackendName, () => Promise<string>> = {
  tensorflow: loadTensorflow,
  webgpu: loadWebGpu,
  wasm: loadWasm,
  cpu: loadCpu,
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
 * AUTO_ORDER. `log` receives one line saying what was chosen.
 */
export async function selectBackend(requested: BackendName | 'auto' = 'auto', log: (line: string) => void = () => {}): Promise<SelectedBackend> {
  await registerGradients()
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested]
  const failures: string[] = []
  for (const name of candidates) {
    try {
      const tfName = await LOADERS[name]()
      if (!(await tf.setBackend(tfName))) throw new Error(`tf.setBackend('${tfName}') returned false`)
      await tf.ready()
      // The cpu backend prints a "install tfjs-node" banner on first use; we log our own line.
      if (tfName === 'cpu') Object.assign(tf.backend(), { firstUse: false })
      const detail = failures.length ? `after ${failures.join('; ')}` : requested === 'auto' ? 'first available' : 'requested'
      log(`trainer backend: ${name} (${detail})`)
      return { name, tfName, detail }
    } catch (err) {
      failures.push(`${name} unavailable: ${(err as Error).message}`)
    }
  }
  throw new Error(`no trainer backend could be loaded: ${failures.join('; ')}`)
}

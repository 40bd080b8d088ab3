// The wasm backend on several cores: tfjs-backend-wasm's threaded-SIMD binary, run in Node.
//
// tfjs ships the binary (tfjs-backend-wasm-threaded-simd.wasm, XNNPACK over a pthreadpool) but
// never uses it in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag answers false there, and its
// loader hands Emscripten's pthread workers Blob URLs, which Node's worker_threads cannot start.
// Nothing else stands in the way: Node has SharedArrayBuffer and shared WebAssembly memory
// without any cross-origin-isolation headers, and Emscripten's glue already speaks
// worker_threads. So this file starts the threaded module itself:
//
//   1. The Emscripten factory and the pthread worker script are taken, as text, from tfjs's own
//      Node bundle (the same code tfjs would put in those Blobs), and written as two CommonJS
//      files in a fresh temporary folder. The factory is a closure over four of the bundle's
//      requires and three tslib helpers; a short prelude defines them. Its `os` stands in for
//      one call only, the core count, which the C++ side halves ("hyper-threads") and caps at 8
//      to size XNNPACK's pool: reporting 2·n cores gives a pool of exactly n threads.
//   2. The factory is called with locateFile pointing at those files, then the backend is the
//      package's own BackendWasm over that module — every stock kernel, and ours, unchanged.
//   3. Once the module is ready (Emscripten has loaded it into all 8 pool workers) the folder
//      is deleted, and the workers are unref'd so that they never keep the process alive.
//
// The threaded module's results are those of the single-threaded one: XNNPACK splits a product
// by output tiles, each computed by the same micro-kernel over the same k order (the test
// compares training runs at 1 and 2 threads). If the bundle does not have the expected shape
// (another tfjs version), this throws and the caller falls back to one thread, saying why.
import { createRequire } from 'node:module'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import vm from 'node:vm'
import * as tf from '@tensorflow/tfjs-core'

const require = createRequire(import.meta.url)

/** XNNPACK's pool cannot grow past this in tfjs's build (8 pre-created workers, capped in C++). */
export const MAX_WASM_THREADS = 8

const FACTORY_START = '    var WasmBackendModuleThreadedSimd = (function () {'
const FACTORY_END = '    module.exports = WasmBackendModuleThreadedSimd;'
const HELPERS = ['__values', '__read', '__spreadArray']

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): unknown
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] }
}
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>

/** The threaded factory's source and the pthread worker's, cut out of tfjs's Node bundle. */
export function threadedSources(bundle: string): { factory: string; worker: string } {
  const start = bundle.indexOf(FACTORY_START)
  const end = start < 0 ? -1 : bundle.indexOf(FACTORY_END, start)
  const workerLiteral = /^var wasmWorkerContents = (".*");$/m.exec(bundle)
  if (end < 0 || !workerLiteral) throw new Error('the tfjs-backend-wasm bundle does not have the expected threaded-SIMD factory')
  const helpers = HELPERS.map((name) => {
    const i = bundle.indexOf(`\nfunction ${name}(`)
    const j = i < 0 ? -1 : bundle.indexOf('\n}\n', i)
    if (j < 0) throw new Error(`the tfjs-backend-wasm bundle lacks its ${name} helper`)
    return bundle.slice(i, j + 3)
  })
  // A string literal: evaluate it in an empty context (it is only a string).
  const worker = vm.runInNewContext(workerLiteral[1]) as string
  // tfjs escapes newlines the same way before making its Blob (they sit inside string literals).
  return { factory: helpers.join('') + bundle.slice(start, end), worker: worker.replace(/\n/g, '\\n') }
}

/** The CommonJS file that defines the factory, with the bundle's free variables bound. */
function factoryFile(factory: string, threads: number): string {
  return [
    `var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), commonjsGlobal = globalThis;`,
    `// Read once, by the C++ side, to size the thread pool: it halves the figure.`,
    `var require$$4 = { cpus: function () { return { length: ${2 * threads} } } };`,
    factory,
    `if (typeof module !== 'undefined') module.exports = WasmBackendModuleThreadedSimd;`,
  ].join('\n')
}

/** tfjs's registry entry for a backend (the engine keeps it; its type is not public). */
type BackendFactory = () => Promise<tf.KernelBackend> | tf.KernelBackend
const registeredFactory = (name: string): BackendFactory | undefined =>
  (tf.engine() as unknown as { registryFactory: Record<string, { factory: BackendFactory } | undefined> }).registryFactory[name]?.factory

/**
 * Replaces the 'wasm' backend's factory with one that starts the threaded-SIMD module on
 * `threads` threads (2..MAX_WASM_THREADS). Call before the wasm backend is first initialised in
 * this process; the count then holds for the process's life. Should the threaded module fail to
 * start, the stock single-threaded one is started instead and `onFallback` told why.
 */
export function registerThreadedWasm(threads: number, onFallback: (reason: string) => void = () => {}): void {
  if (!Number.isInteger(threads) || threads < 2 || threads > MAX_WASM_THREADS) throw new Error(`threaded wasm takes 2 to ${MAX_WASM_THREADS} threads (got ${threads})`)
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')
  const bundlePath = require.resolve('@tensorflow/tfjs-backend-wasm')
  const binary = path.join(path.dirname(bundlePath), 'tfjs-backend-wasm-threaded-simd.wasm')
  const sources = threadedSources(readFileSync(bundlePath, 'utf8'))
  const stock = registeredFactory('wasm')
  if (!stock) throw new Error('the wasm backend is not registered')
  tf.removeBackend('wasm')
  tf.registerBackend('wasm', async () => {
    try {
      return await startThreaded()
    } catch (err) {
      onFallback(`the threaded-SIMD module did not start (${(err as Error).message})`)
      return stock()
    }
  }, 2)

  async function startThreaded(): Promise<tf.KernelBackend> {
    const dir = mkdtempSync(path.join(tmpdir(), 'skillet-wasm-threads-'))
    try {
      const mainPath = path.join(dir, 'factory.cjs')
      const workerPath = path.join(dir, 'worker.cjs')
      writeFileSync(mainPath, factoryFile(sources.factory, threads))
      writeFileSync(workerPath, sources.worker)
      const factory = require(mainPath) as Factory
      const module = await factory({
        locateFile: (file: string) => (file.endsWith('.worker.js') ? workerPath : file.endsWith('.wasm') ? binary : path.join(dir, file)),
        mainScriptUrlOrBlob: mainPath,
      })
      // As tfjs's own loader does (the package's init(), which we bypass).
      Object.assign(module, {
        tfjs: {
          init: module.cwrap('init', null, []),
          initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
          getThreadsCount: module.cwrap('get_threads_count', 'number', []),
          registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
          disposeData: module.cwrap('dispose_data', null, ['number']),
          dispose: module.cwrap('dispose', null, []),
        },
      })
      wasmPkg.setThreadsCount(threads)
      const backend = new wasmPkg.BackendWasm(module as unknown as ConstructorParameters<typeof wasmPkg.BackendWasm>[0])
      // The pool's threads are started now; idle or busy, they must not hold the process open.
      for (const worker of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) worker.unref()
      return backend
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Threads the initialised wasm backend computes with (1 for the stock single-threaded module). */
export function wasmThreadCount(): number {
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')
  try {
    return Math.max(1, wasmPkg.getThreadsCount())
  } catch {
    return 1
  }
}

// The wasm backend on several threads — XNNPACK's pool (wasm-threads.ts) or onnxruntime's for
// the products (native-matmul.ts) — and the thread count's default (cpu-budget.ts): a training
// run at 2 threads gives the weights a 1-thread run gives, and SKILLET_TRAINER_THREADS / cgroup
// CPU limits decide the count.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { cgroupPaths, coresFromCfs, coresFromCpuMax, readCgroupCpuQuotas, usableCores } from '../../src/trainer/backend/cpu-budget.ts'
import { parseThreads, resolveThreads } from '../../src/trainer/backend/select-backend.ts'
import { MAX_WASM_THREADS, threadedSources } from '../../src/trainer/backend/wasm-threads.ts'

const run = promisify(execFile)
const child = path.join(import.meta.dirname, 'helpers', 'threads-training-child.ts')

interface ChildResult {
  threads: number
  matmul: string
  tensorsLeft: number
  lora: { losses: number[]; weights: Record<string, number[]> }
  full: { losses: number[]; weights: Record<string, number[]> }
}

async function train(threads: string, matmul: string): Promise<ChildResult> {
  const env = { ...process.env, SKILLET_TRAINER_THREADS: threads, SKILLET_TRAINER_MATMUL: matmul }
  const { stdout } = await run(process.execPath, [child], { env, timeout: 300_000, maxBuffer: 256 * 2 ** 20 })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult
}

/** Largest |a − b| / max(1, |a|) over two equally shaped weight sets. */
function maxRelativeDifference(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let worst = 0
  for (const [name, xs] of Object.entries(a)) {
    const ys = b[name]
    if (!ys || ys.length !== xs.length) return Infinity
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(xs[i] - ys[i]) / Math.max(1, Math.abs(xs[i])))
  }
  return worst
}

for (const matmul of ['xnnpack', 'onnxruntime'] as const) {
  t.test(`training on 2 threads computes what 1 thread computes (matmul on ${matmul})`, async (t) => {
    const [one, two] = await Promise.all([train('1', matmul), train('2', matmul)])
    t.equal(one.threads, 1, 'SKILLET_TRAINER_THREADS=1: one thread')
    t.equal(two.threads, 2, `SKILLET_TRAINER_THREADS=2: ${matmul === 'xnnpack' ? 'XNNPACK runs a pool of 2 threads' : "onnxruntime's pool has 2 threads"}`)
    t.equal(two.matmul, matmul)
    for (const method of ['lora', 'full'] as const) {
      t.equal(two[method].losses.length, 3)
      t.ok(two[method].losses.every(Number.isFinite), `${method}: finite losses`)
      // Both split products by output tile, each tile summed in the same order: in practice the
      // results are bit-identical; the assertion allows float rounding (1e-6 relative).
      const lossDiff = Math.max(...one[method].losses.map((l, i) => Math.abs(l - two[method].losses[i]) / Math.abs(l)))
      t.ok(lossDiff <= 1e-6, `${method}: the same losses (largest relative difference ${lossDiff})`)
      const weightDiff = maxRelativeDifference(one[method].weights, two[method].weights)
      t.ok(weightDiff <= 1e-6, `${method}: the same trained weights (largest relative difference ${weightDiff})`)
      t.ok(Object.keys(two[method].weights).length > 0)
    }
    t.equal(two.tensorsLeft, one.tensorsLeft, 'no tensor more is left behind')
  })
}

t.test('both engines train to the same weights, within float rounding of different summation orders', async (t) => {
  const [xnnpack, onnxruntime] = await Promise.all([train('1', 'xnnpack'), train('1', 'onnxruntime')])
  for (const method of ['lora', 'full'] as const) {
    const lossDiff = Math.max(...xnnpack[method].losses.map((l, i) => Math.abs(l - onnxruntime[method].losses[i]) / Math.abs(l)))
    t.ok(lossDiff <= 1e-4, `${method}: the same losses (largest relative difference ${lossDiff})`)
    const weightDiff = maxRelativeDifference(xnnpack[method].weights, onnxruntime[method].weights)
    t.ok(weightDiff <= 1e-3, `${method}: the same trained weights (largest relative difference ${weightDiff})`)
  }
})

t.test('the threaded module and its worker come from the installed tfjs-backend-wasm bundle', async (t) => {
  const require = createRequire(import.meta.url)
  const sources = threadedSources(readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm'), 'utf8'))
  t.match(sources.factory, /var WasmBackendModuleThreadedSimd = \(function/)
  t.match(sources.worker, /worker_threads/)
  t.throws(() => threadedSources('var x = 1'), /does not have the expected threaded-SIMD factory/, 'another bundle shape: a clear error (the backend then runs on one thread)')
})

t.test('SKILLET_TRAINER_THREADS', async (t) => {
  t.equal(parseThreads(undefined), 'auto')
  t.equal(parseThreads(''), 'auto')
  t.equal(parseThreads('auto'), 'auto')
  t.equal(parseThreads('4'), 4)
  t.throws(() => parseThreads('0'), /SKILLET_TRAINER_THREADS must be auto or an integer of at least 1 \(got "0"\)/)
  t.throws(() => parseThreads('two'), /SKILLET_TRAINER_THREADS/)
  t.equal(resolveThreads('auto', () => 3), 3, 'auto: the cores this process may use')
  t.equal(resolveThreads(2, () => 16), 2)
  t.equal(resolveThreads('auto', () => 64), MAX_WASM_THREADS, 'at most the pool tfjs builds in')
})

t.test('the cores a process may use: affinity and cgroup CPU quotas', async (t) => {
  t.equal(coresFromCpuMax('max 100000\n'), null, 'cgroup v2, no limit')
  t.equal(coresFromCpuMax('150000 100000\n'), 1.5)
  t.equal(coresFromCfs('-1\n', '100000\n'), null, 'cgroup v1, no limit')
  t.equal(coresFromCfs('300000', '100000'), 3)
  t.equal(usableCores(8, []), 8)
  t.equal(usableCores(8, [1.5]), 1, 'a quota of 1.5 cores: 1 thread (a second would be throttled)')
  t.equal(usableCores(8, [0.25]), 1, 'never less than 1')
  t.equal(usableCores(2, [4]), 2, 'a quota above the CPUs the scheduler gives changes nothing')
  t.equal(usableCores(16, [6, 3]), 3, 'the tightest of nested limits')
  t.same(cgroupPaths('0::/kubepods/pod1/c1\n'), { v2: '/kubepods/pod1/c1', v1Cpu: null })
  t.same(cgroupPaths('4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n'), { v2: '/', v1Cpu: '/docker/abc' })

  const root = mkdtempSync(path.join(tmpdir(), 'skillet-cgroup-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(path.join(root, 'kubepods', 'pod1', 'c1'), { recursive: true })
  writeFileSync(path.join(root, 'cpu.max'), 'max 100000\n')
  writeFileSync(path.join(root, 'kubepods', 'pod1', 'cpu.max'), '200000 100000\n')
  writeFileSync(path.join(root, 'kubepods', 'pod1', 'c1', 'cpu.max'), 'max 100000\n')
  t.same(readCgroupCpuQuotas(root, '0::/kubepods/pod1/c1\n'), [2], 'cgroup v2: a parent\'s cpu.max applies')
  mkdirSync(path.join(root, 'cpu', 'docker', 'abc'), { recursive: true })
  writeFileSync(path.join(root, 'cpu', 'docker', 'abc', 'cpu.cfs_quota_us'), '50000\n')
  writeFileSync(path.join(root, 'cpu', 'docker', 'abc', 'cpu.cfs_period_us'), '100000\n')
  t.same(readCgroupCpuQuotas(root, '2:cpu,cpuacct:/docker/abc\n'), [0.5], 'cgroup v1: CFS quota over period')
})

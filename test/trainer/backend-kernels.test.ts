// Backend selection, and our replacement kernels (wasm BatchMatMul on XNNPACK, scatter-add
// UnsortedSegmentSum) against the stock cpu kernels.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { parseBackendName, parseMatMul, selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { scatterAddRows } from '../../src/trainer/backend/segment-sum.ts'
import { runsOnOneThread } from '../../src/trainer/backend/native-matmul.ts'
import { nativeRoute } from '../../src/trainer/backend/wasm-batch-matmul.ts'
import { Random } from '../../src/trainer/model/random.ts'

t.test('auto picks the first backend that loads and says why', async (t) => {
  const lines: string[] = []
  const chosen = await selectBackend('auto', (l) => lines.push(l))
  t.equal(chosen.name, 'wasm', 'tfjs-node is not installed here, so wasm')
  t.equal(tf.getBackend(), 'wasm')
  t.match(lines[0], /^trainer backend: wasm on the CPU, \d+ threads?, matmul on onnxruntime \(chosen automatically\)$/,
    'what was chosen, on how many threads, and what computes its products (onnxruntime-node is installed), in one line')
  t.equal(chosen.matmul, 'onnxruntime')
  t.match(lines[1], /^no GPU in use \(tensorflow: .*tfjs-node.*; webgpu: .*\); a GPU needs @tensorflow\/tfjs-node-gpu with CUDA, or a Vulkan driver for WebGPU: see docs\/gpu\.md$/,
    'and, on one informational line, why no GPU backend loaded and what a GPU needs')
  t.equal(lines.length, 2)
  await t.rejects(selectBackend('tensorflow'), /tfjs-node/, 'asking for tensorflow fails loudly')
  t.equal(parseBackendName(undefined), 'auto')
  t.equal(parseBackendName('cpu'), 'cpu')
  t.throws(() => parseBackendName('cuda'), /unknown trainer backend "cuda"/)
})

const rng = Random.fromSeed(3)
const rand = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1)) })
const CASES: [string, number[], number[], boolean, boolean][] = [
  ['2-D', [33, 17], [17, 9], false, false],
  ['2-D, transpose b', [33, 17], [9, 17], false, true],
  ['2-D, transpose a', [17, 33], [17, 9], true, false],
  ['2-D, both transposed', [17, 33], [9, 17], true, true],
  ['2-D, transpose a, thin result (LoRA dB: computed as (bᵀ·a)ᵀ)', [40, 3], [40, 17], true, false],
  ['2-D, both transposed, thin result', [40, 3], [17, 40], true, true],
  ['batched', [2, 3, 5, 7], [2, 3, 7, 4], false, false],
  ['batched, transpose b (attention scores)', [6, 10, 8], [6, 12, 8], false, true],
  ['batched, transpose a (attention gradient)', [6, 8, 10], [6, 8, 12], true, false],
  ['batched a, 2-D b (folded into rows)', [4, 5, 7], [7, 3], false, false],
  ['2-D a, batched b', [5, 7], [4, 7, 3], false, false],
  ['batched a, 2-D b, transpose a', [4, 7, 5], [7, 3], true, false],
  ['batched, both transposed', [3, 7, 5], [3, 4, 7], true, true],
  ['large enough to split across threads, batched a, 2-D b', [2, 160, 128], [128, 256], false, false],
  ['large enough to split across threads, transpose b', [160, 256], [300, 256], false, true],
  ['inner dimension of LoRA rank (XNNPACK even with onnxruntime)', [40, 8], [8, 17], false, false],
  ['inner dimension of LoRA rank, transpose b', [40, 8], [17, 8], false, true],
  ['2-D, transpose a, thin n (LoRA dA: computed as (bᵀ·a)ᵀ)', [40, 17], [40, 3], true, false],
  ['2-D, transpose a, thin n over few rows (XNNPACK turns it round)', [8, 17], [8, 3], true, false],
  ['inner dimension 0', [3, 0], [0, 4], false, false],
  ['no rows', [0, 5], [5, 4], false, false],
  ['no rows or columns, transpose a', [5, 0], [5, 0], true, false],
]

for (const matmul of ['xnnpack', 'onnxruntime'] as const) {
  t.test(`wasm BatchMatMul on ${matmul} matches cpu`, async (t) => {
    for (const [name, aShape, bShape, ta, tb] of CASES) {
      const a = rand(aShape), b = rand(bShape)
      const product = async (backend: 'cpu' | 'wasm') => {
        const selected = await selectBackend(backend, () => {}, { matmul })
        if (backend === 'wasm') t.equal(selected.matmul, matmul)
        const out = tf.tidy(() => tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape), ta, tb))
        const values = { shape: out.shape, data: (await out.data()) as Float32Array }
        out.dispose()
        return values
      }
      const cpu = await product('cpu')
      const wasm = await product('wasm')
      t.same(wasm.shape, cpu.shape, `${name}: shape ${cpu.shape}`)
      let worst = 0
      for (let i = 0; i < cpu.data.length; i++) worst = Math.max(worst, Math.abs(cpu.data[i] - wasm.data[i]))
      // Float rounding grows with the inner dimension (sums of k products in another order).
      const k = ta ? aShape.at(-2)! : aShape.at(-1)!
      const tolerance = Math.max(1e-5, 1e-7 * k)
      t.ok(worst < tolerance, `${name}: max |Δ| ${worst.toExponential(2)} < ${tolerance.toExponential(1)}`)
      // Empty sums are exactly 0 (XNNPACK refuses the product: the kernel must write them itself).
      if (k === 0) t.ok(wasm.data.every((x) => x === 0), `${name}: all exactly 0`)
    }
    t.equal(tf.memory().numTensors, 0, 'no tensors leaked by the kernel')
  })
}

t.test('onnxruntime: which products run on one thread', async (t) => {
  t.ok(runsOnOneThread(1024, 8, 256), "LoRA's up-projection: a side of rank 8")
  t.ok(runsOnOneThread(256, 1024, 8), "LoRA's weight gradient")
  t.ok(runsOnOneThread(128, 64, 128), "an attention head's scores: 1M multiply-adds")
  t.notOk(runsOnOneThread(128, 64, 128, 32), "32 heads' scores at once: 32M multiply-adds, split")
  t.ok(runsOnOneThread(1024, 8, 256, 32), 'a batch of rank-8 products stays on one thread')
  t.notOk(runsOnOneThread(1024, 256, 256), 'a projection of 1024 tokens: split')
  t.notOk(runsOnOneThread(4096, 64, 64), "RoPE's swap over 4096 rows: split")
})

t.test('onnxruntime installed: which products go elsewhere', async (t) => {
  t.equal(nativeRoute(1, 1024, 8, 256, false), 'xnnpack', "LoRA's up-projection u·B: inner dimension of rank 8")
  t.equal(nativeRoute(1, 1024, 16, 512, false), 'xnnpack', 'rank 16')
  t.equal(nativeRoute(1, 1024, 32, 512, false), 'native', 'rank 32 stays native')
  t.equal(nativeRoute(1, 256, 1024, 8, true), 'native, turned round', "LoRA's dA = xᵀ·g: computed as (gᵀ·x)ᵀ")
  t.equal(nativeRoute(1, 8, 1024, 256, true), 'native', "LoRA's dB = uᵀ·dy, and the turned-round dA: native as they are")
  t.equal(nativeRoute(1, 1024, 256, 256, false), 'native', 'a projection')
  t.equal(nativeRoute(1, 256, 8, 4, true), 'xnnpack', 'a thin dA over a few tokens: XNNPACK, which turns it round itself')
  t.equal(nativeRoute(32, 128, 8, 128, false), 'native', 'a batched product stays native, whatever its inner dimension')
  t.not(nativeRoute(1, 0, 40, 0, true), 'native, turned round', 'an empty product is never turned round (it would be turned again)')
})

t.test('SKILLET_TRAINER_MATMUL', async (t) => {
  t.equal(parseMatMul(undefined), 'auto')
  t.equal(parseMatMul(' XNNPACK '), 'xnnpack')
  t.equal(parseMatMul('onnxruntime'), 'onnxruntime')
  t.throws(() => parseMatMul('blas'), /SKILLET_TRAINER_MATMUL must be one of auto, onnxruntime, xnnpack \(got "blas"\)/)
})

t.test('UnsortedSegmentSum (gather gradient) on wasm and cpu', async (t) => {
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8])
  const ids = Int32Array.from([2, 0, 2, 9])
  const expected = new Float32Array(6)
  scatterAddRows(x, ids, 3, expected)
  t.same([...expected], [3, 4, 0, 0, 6, 8], 'rows summed by segment; out-of-range id dropped')
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend)
    const out = tf.unsortedSegmentSum(tf.tensor2d(x, [4, 2]), tf.tensor1d(ids, 'int32'), 3)
    t.same([...(await out.data())], [...expected], `${backend} kernel`)
    // And as the gradient of gather, which is what an embedding lookup needs.
    const table = tf.variable(tf.ones([3, 2]))
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.gather(table, tf.tensor1d([2, 0, 2], 'int32'))), [table])
    t.same([...(await grads[table.name].data())], [1, 1, 0, 0, 2, 2], `${backend}: gather gradient counts each lookup`)
    tf.dispose([out, table, value, ...Object.values(grads)])
  }
})

t.test('wasm GatherV2: row lookups (our copy path) and other gathers (stock path) match cpu', async (t) => {
  const table = rand([6, 3, 4])
  const gathers: [string, number[], number[], number][] = [
    ['rows of a 2-D table', [6, 12], [5, 0, 5, 2], 0],
    ['rows of a 3-D table, 2-D indices', [6, 3, 4], [1, 4, 4, 0, 3, 2], 0],
    ['along axis 1 (stock kernel)', [6, 12], [11, 0, 3], 1],
  ]
  for (const [name, shape, ids, axis] of gathers) {
    const idShape = name.includes('2-D indices') ? [2, 3] : [ids.length]
    const gatherOn = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend)
      const out = tf.tidy(() => tf.gather(tf.tensor(table.data, shape), tf.tensor(ids, idShape, 'int32'), axis))
      const values = { shape: out.shape, data: [...(await out.data())] }
      out.dispose()
      return values
    }
    t.same(await gatherOn('wasm'), await gatherOn('cpu'), name)
  }
  await selectBackend('wasm')
  const before = tf.memory().numTensors
  t.throws(() => tf.tidy(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([1, 3], 'int32'))), /index value 3 is not in \[0, 2\]/, 'an out-of-range row is refused')
  t.equal(tf.memory().numTensors, before, 'nothing leaked, the refused lookup included')
})

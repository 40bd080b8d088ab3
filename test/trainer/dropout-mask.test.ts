// LoRA dropout masks (dropout-mask.ts): the rate is honoured, drops are independent of each
// other, a mask is a pure function of its seed, and the dense mask the backend builds (cpu
// and wasm) holds 0 exactly at the drawn positions and the kept value everywhere else.
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { dropoutMask, dropPositions } from '../../src/trainer/model/dropout-mask.ts'

const SIZE = 400_000

t.test('drop rate and independence', async (t) => {
  for (const rate of [0.05, 0.1, 0.5, 0.9]) {
    const dropped = dropPositions(17, SIZE, rate)
    let afterDrop = 0
    for (let i = 1; i < dropped.length; i++) if (dropped[i] === dropped[i - 1] + 1) afterDrop++
    const ascending = dropped.every((p, i) => p >= 0 && p < SIZE && (i === 0 || p > dropped[i - 1]))
    // The binomial standard deviation is at most 0.0008 here: 5 of them is a loose, still sharp bound.
    t.ok(Math.abs(dropped.length / SIZE - rate) < 0.004, `rate ${rate}: dropped ${(dropped.length / SIZE).toFixed(4)}`)
    t.ok(Math.abs(afterDrop / dropped.length - rate) < 0.02, `rate ${rate}: P(drop | previous dropped) ${(afterDrop / dropped.length).toFixed(4)}`)
    t.ok(ascending, `rate ${rate}: distinct positions in range, ascending`)
  }
  t.equal(dropPositions(3, 1000, 0).length, 0, 'rate 0 drops nothing')
  t.throws(() => dropPositions(1, 10, 1), /dropout rate/, 'rate 1 is refused')
})

t.test('a pure function of the seed; different seeds give unrelated masks', async (t) => {
  t.same(dropPositions(42, 5000, 0.3), dropPositions(42, 5000, 0.3), 'same seed, same positions')
  const a = new Set(dropPositions(1, SIZE, 0.5))
  const b = dropPositions(2, SIZE, 0.5)
  const both = b.filter((p) => a.has(p)).length
  // Independent masks share a drop with probability 0.25.
  t.ok(Math.abs(both / SIZE - 0.25) < 0.005, `consecutive seeds share ${(100 * both / SIZE).toFixed(2)}% of positions as drops (chance: 25%)`)
})

for (const backend of ['cpu', 'wasm'] as const) {
  t.test(`${backend}: the dense mask`, async (t) => {
    await selectBackend(backend)
    const mask = tf.tidy(() => dropoutMask(9, 30, 20, 0.3, 1.75))
    const values = await mask.data()
    const dropped = new Set(dropPositions(9, 600, 0.3))
    t.same(mask.shape, [30, 20])
    t.ok(values.every((v, i) => v === (dropped.has(i) ? 0 : 1.75)), `0 at the ${dropped.size} drawn positions, 1.75 elsewhere`)
    mask.dispose()
    const none = tf.tidy(() => dropoutMask(9, 3, 4, 0, 2))
    t.same([...(await none.data())], new Array(12).fill(2), 'rate 0: all kept')
    none.dispose()
  })
}

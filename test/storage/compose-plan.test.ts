import t from 'tap'
import { MAX_PARTS, MAX_PART_BYTES, MIN_PART_BYTES, planServerSideCompose } from '../../src/storage/compose-plan.ts'

t.test('one whole-source part each when every non-last source is at least 5 MiB', async (t) => {
  t.same(planServerSideCompose([MIN_PART_BYTES, 6 * MIN_PART_BYTES, 3]), [
    { sourceIndex: 0, start: 0, end: MIN_PART_BYTES - 1 },
    { sourceIndex: 1, start: 0, end: 6 * MIN_PART_BYTES - 1 },
    { sourceIndex: 2, start: 0, end: 2 },
  ])
  t.same(planServerSideCompose([1]), [{ sourceIndex: 0, start: 0, end: 0 }], 'a lone small source is a valid last part')
})

t.test('null (stream instead) when S3 would refuse the parts', async (t) => {
  t.equal(planServerSideCompose([MIN_PART_BYTES - 1, MIN_PART_BYTES]), null, 'small non-last source')
  t.equal(planServerSideCompose([MIN_PART_BYTES, 0]), null, 'empty source')
  t.equal(planServerSideCompose([]), null, 'no sources')
  t.equal(planServerSideCompose(new Array(MAX_PARTS + 1).fill(MIN_PART_BYTES)), null, 'too many parts')
})

t.test('sources over 5 GiB are split into equal ranges that cover them exactly', async (t) => {
  const big = 2 * MAX_PART_BYTES + 1 // needs three pieces
  const plan = planServerSideCompose([big, 10])
  if (!plan) throw new Error('expected a plan')
  const pieces = plan.filter((p) => p.sourceIndex === 0)
  t.equal(pieces.length, 3)
  t.equal(pieces[0].start, 0)
  t.equal(pieces[2].end, big - 1)
  for (let i = 1; i < pieces.length; i++) t.equal(pieces[i].start, pieces[i - 1].end + 1, 'contiguous')
  for (const p of pieces) {
    const bytes = p.end - p.start + 1
    t.ok(bytes <= MAX_PART_BYTES && bytes >= MIN_PART_BYTES, `piece of ${bytes} bytes within S3's limits`)
  }
  t.same(plan.at(-1), { sourceIndex: 1, start: 0, end: 9 })
})

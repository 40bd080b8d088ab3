// The behaviour every BlobStore must have, as one tap suite. Each store's test file calls
// blobStoreContract() with a factory; every test gets a fresh, empty store from it.

import { text } from 'node:stream/consumers'
import { Readable } from 'node:stream'
import t from 'tap'
import { InvalidBlobKeyError } from '../../src/storage/blob-keys.ts'
import { BlobNotFoundError, type BlobStore } from '../../src/storage/blob-store.ts'
import { MiB, generatedStream, peakRssGrowth, sha256Of } from '../helpers/generated-stream.ts'

export interface ContractHarness {
  store: BlobStore
  /**
   * What interrupted puts left behind: temp files (fs) or unfinished multipart uploads (s3).
   * Called once, at the end of a test; it may take the store's backing apart to find out.
   */
  leftovers(): Promise<string[]>
  close(): Promise<void>
}

export interface ContractOptions {
  bigPutBytes: number
  /** When set, the big put must not grow this process's RSS by more than this. */
  rssGrowthBudgetBytes?: number
}

export function blobStoreContract(makeHarness: () => Promise<ContractHarness>, opts: ContractOptions): void {
  async function freshStore(tt: { teardown(fn: () => unknown): void }): Promise<ContractHarness> {
    const harness = await makeHarness()
    tt.teardown(() => harness.close())
    return harness
  }

  t.test('put, get, head, overwrite, missing keys', async (t) => {
    const { store } = await freshStore(t)
    t.same(await store.put('datasets/a.jsonl', Buffer.from('first')), { key: 'datasets/a.jsonl', bytes: 5 })
    t.equal(await text(await store.get('datasets/a.jsonl')), 'first')
    t.same(await store.head('datasets/a.jsonl'), { key: 'datasets/a.jsonl', bytes: 5 })
    t.same(await store.put('datasets/a.jsonl', Readable.from([Buffer.from('second!')])), { key: 'datasets/a.jsonl', bytes: 7 })
    t.equal(await text(await store.get('datasets/a.jsonl')), 'second!')
    t.equal(await store.head('datasets/missing'), null)
    t.equal(await store.head('datasets'), null, 'a "folder" is not a blob')
    await t.rejects(store.get('datasets/missing'), BlobNotFoundError)
    await t.rejects(store.get('datasets/missing'), { name: 'BlobNotFoundError', key: 'datasets/missing' })
    t.same(await store.put('empty', Buffer.alloc(0)), { key: 'empty', bytes: 0 })
    t.equal(await text(await store.get('empty')), '')
  })

  t.test('range get: end is inclusive; either bound may be left out', async (t) => {
    const { store } = await freshStore(t)
    await store.put('r', Buffer.from('0123456789'))
    t.equal(await text(await store.get('r', { start: 2, end: 4 })), '234')
    t.equal(await text(await store.get('r', { start: 7 })), '789')
    t.equal(await text(await store.get('r', { end: 1 })), '01')
    t.equal(await text(await store.get('r', { start: 9, end: 9 })), '9')
  })

  t.test('list matches by string prefix, sorted, with sizes', async (t) => {
    const { store } = await freshStore(t)
    for (const key of ['jobs/j1/b', 'jobs/j1/a/deep', 'jobs/j10/x', 'jobs/j2/y', 'other']) {
      await store.put(key, Buffer.from(key))
    }
    const keys = async (prefix: string) => (await store.list(prefix)).map((b) => b.key)
    t.same(await keys('jobs/j1/'), ['jobs/j1/a/deep', 'jobs/j1/b'])
    t.same(await keys('jobs/j1'), ['jobs/j1/a/deep', 'jobs/j1/b', 'jobs/j10/x'])
    t.same(await keys(''), ['jobs/j1/a/deep', 'jobs/j1/b', 'jobs/j10/x', 'jobs/j2/y', 'other'])
    t.same(await keys('nothing/here/'), [])
    t.same(await store.list('jobs/j2/'), [{ key: 'jobs/j2/y', bytes: 9 }])
  })

  t.test('delete and deletePrefix', async (t) => {
    const { store } = await freshStore(t)
    for (const key of ['jobs/j1/a', 'jobs/j1/b/c', 'jobs/j10/a', 'keep']) await store.put(key, Buffer.from('x'))
    await store.delete('keep')
    await store.delete('keep') // missing is fine
    t.equal(await store.head('keep'), null)
    await store.deletePrefix('jobs/j1/')
    t.same((await store.list('')).map((b) => b.key), ['jobs/j10/a'], 'only that job is gone')
    await t.rejects(store.deletePrefix(''), TypeError, 'refuses to delete everything')
    await store.put('jobs/j1/again', Buffer.from('y'))
    t.equal(await text(await store.get('jobs/j1/again')), 'y', 'a deleted prefix can be written again')
  })

  t.test(`big streamed put (${opts.bigPutBytes / MiB} MiB from a generator)`, async (t) => {
    const { store } = await freshStore(t)
    const { result, peakGrowthBytes } = await peakRssGrowth(() => store.put('big/blob', generatedStream(opts.bigPutBytes)))
    t.same(result, { key: 'big/blob', bytes: opts.bigPutBytes })
    t.comment(`peak RSS growth during put: ${(peakGrowthBytes / MiB).toFixed(1)} MiB`)
    if (opts.rssGrowthBudgetBytes !== undefined) {
      t.ok(peakGrowthBytes < opts.rssGrowthBudgetBytes, `RSS grew ${(peakGrowthBytes / MiB).toFixed(1)} MiB, budget ${opts.rssGrowthBudgetBytes / MiB} MiB`)
    }
    t.equal(await sha256Of(await store.get('big/blob')), await sha256Of(generatedStream(opts.bigPutBytes)), 'same bytes back')
  })

  t.test('a failing source leaves nothing: no blob, no temp file or upload, old blob intact', async (t) => {
    const h = await freshStore(t)
    await h.store.put('kept', Buffer.from('old'))
    // 12 MiB in: past the first part of a multipart upload.
    await t.rejects(h.store.put('kept', generatedStream(30 * MiB, { failAfterBytes: 12 * MiB })), { message: 'source failed' })
    await t.rejects(h.store.put('fresh', generatedStream(MiB, { chunkBytes: 1024, failAfterBytes: 4096 })), { message: 'source failed' })
    const early = generatedStream(MiB)
    const earlyPut = h.store.put('early', early)
    early.destroy(new Error('failed at once')) // before the store has begun reading it
    await t.rejects(earlyPut, { message: 'failed at once' })
    t.equal(await h.store.head('early'), null)
    t.equal(await text(await h.store.get('kept')), 'old')
    t.equal(await h.store.head('fresh'), null)
    t.same(await h.leftovers(), [])
  })

  t.test('abort via signal leaves nothing', async (t) => {
    const h = await freshStore(t)
    const controller = new AbortController()
    const source = generatedStream(30 * MiB, {
      stallAfterBytes: 12 * MiB,
      onStall: () => setTimeout(() => controller.abort(), 100), // let the first part go out
    })
    await t.rejects(h.store.put('aborted', source, { signal: controller.signal }), { name: 'AbortError' })
    t.ok(source.destroyed, 'the source was destroyed')
    await t.rejects(h.store.put('pre-aborted', Buffer.from('x'), { signal: AbortSignal.abort() }), { name: 'AbortError' })
    t.equal(await h.store.head('aborted'), null)
    t.equal(await h.store.head('pre-aborted'), null)
    t.same(await h.leftovers(), [])
  })

  t.test('invalid keys are refused by every method', async (t) => {
    const { store } = await freshStore(t)
    const bad = ['', '/abs', '../up', 'a/../b', 'a/./b', 'a//b', 'a/', '.tmp/x', 'a/.hidden', 'a b', 'a\\b', 'é', 'x'.repeat(1025)]
    for (const key of bad) {
      await t.rejects(store.put(key, Buffer.from('x')), InvalidBlobKeyError, `put ${JSON.stringify(key)}`)
      await t.rejects(store.get(key), InvalidBlobKeyError, `get ${JSON.stringify(key)}`)
      await t.rejects(store.head(key), InvalidBlobKeyError, `head ${JSON.stringify(key)}`)
      await t.rejects(store.delete(key), InvalidBlobKeyError, `delete ${JSON.stringify(key)}`)
      await t.rejects(store.compose(key, ['ok']), InvalidBlobKeyError, `compose ${JSON.stringify(key)}`)
      await t.rejects(store.presignPut(key, 60), InvalidBlobKeyError, `presignPut ${JSON.stringify(key)}`)
    }
    await t.rejects(store.list('../'), InvalidBlobKeyError)
    await t.rejects(store.deletePrefix('/etc/'), InvalidBlobKeyError)
    t.same(await store.put('a-b_c.d/E9/f.jsonl', Buffer.from('ok')), { key: 'a-b_c.d/E9/f.jsonl', bytes: 2 })
  })

  t.test('compose small parts: concatenated in order', async (t) => {
    const { store } = await freshStore(t)
    await store.put('parts/1', Buffer.from('one,'))
    await store.put('parts/2', Buffer.from('two,'))
    await store.put('parts/3', Buffer.from('three,'))
    t.same(await store.compose('whole', ['parts/3', 'parts/1', 'parts/2']), { key: 'whole', bytes: 14 })
    t.equal(await text(await store.get('whole')), 'three,one,two,')
    await t.rejects(store.compose('broken', ['parts/1', 'parts/nope']), { name: 'BlobNotFoundError', key: 'parts/nope' })
    t.equal(await store.head('broken'), null)
    await t.rejects(store.compose('none', []), TypeError)
  })

  t.test('compose parts of at least 5 MiB: concatenated in order', async (t) => {
    const { store } = await freshStore(t)
    const a = Buffer.alloc(6 * MiB, 'a')
    const b = Buffer.alloc(5 * MiB, 'b')
    const c = Buffer.from('tail')
    await store.put('big/a', a)
    await store.put('big/b', b)
    await store.put('big/c', c)
    t.same(await store.compose('big/all', ['big/b', 'big/a', 'big/c']), { key: 'big/all', bytes: 11 * MiB + 4 })
    const expected = await sha256Of(Readable.from([b, a, c]))
    t.equal(await sha256Of(await store.get('big/all')), expected)
    t.equal(await text(await store.get('big/all', { start: 5 * MiB - 1, end: 5 * MiB })), 'ba', 'first seam')
    t.equal(await text(await store.get('big/all', { start: 11 * MiB - 1, end: 11 * MiB + 1 })), 'ata', 'second seam')
  })

  t.test('ping succeeds on a working store', async (t) => {
    const { store } = await freshStore(t)
    await t.resolves(store.ping())
  })
}

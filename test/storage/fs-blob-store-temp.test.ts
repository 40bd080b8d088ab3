// The filesystem store's temp folder: what interrupted writes leave is swept, and a cleanup that
// fails never hides why the write failed.
import { mkdir, mkdtemp, readdir, rm, unlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import t, { type Test } from 'tap'
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts'

async function freshStore(t: Test) {
  const root = await mkdtemp(join(tmpdir(), 'skillet-blobs-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  return { root, tmp: join(root, '.tmp'), store: new FsBlobStore({ root }) }
}

t.test('sweepAbandonedWrites removes idle temp files (and folders), keeps writes in progress', async (t) => {
  const { tmp, store } = await freshStore(t)
  await mkdir(tmp, { recursive: true })
  const hourAgo = new Date(Date.now() - 3600_000)
  await writeFile(join(tmp, 'crashed-upload'), 'partial')
  await utimes(join(tmp, 'crashed-upload'), hourAgo, hourAgo)
  await mkdir(join(tmp, 'odd-folder'))
  await writeFile(join(tmp, 'odd-folder', 'x'), 'x')
  await utimes(join(tmp, 'odd-folder'), hourAgo, hourAgo)
  await writeFile(join(tmp, 'being-written'), 'fresh')
  t.equal(await store.sweepAbandonedWrites(15 * 60_000), 2)
  t.same(await readdir(tmp), ['being-written'])
  t.equal(await new FsBlobStore({ root: join(tmp, 'never-made') }).sweepAbandonedWrites(0), 0, 'no temp folder yet: nothing to do')
})

t.test('a put whose cleanup fails reports the original error, and the sweep removes the leftover', async (t) => {
  const { tmp, store } = await freshStore(t)
  const source = new PassThrough()
  const put = store.put('files/a.bin', source)
  source.write('some bytes')
  // Wait for the temp file, then put a non-empty folder in its place: rm({force}) cannot remove that.
  let names: string[] = []
  while (names.length === 0) {
    await new Promise((r) => setTimeout(r, 5))
    names = await readdir(tmp).catch(() => [])
  }
  await unlink(join(tmp, names[0]))
  await mkdir(join(tmp, names[0]))
  await writeFile(join(tmp, names[0], 'blocker'), 'x')
  source.destroy(new Error('client went away'))
  await t.rejects(put, /client went away/, 'the write failure, not the cleanup failure')
  t.equal(await store.head('files/a.bin'), null, 'no blob')
  t.equal(await store.sweepAbandonedWrites(-1000), 1, 'the leftover is swept')
  t.same(await readdir(tmp), [])
})

import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts'
import { createBlobStore } from '../../src/storage/index.ts'
import { MiB } from '../helpers/generated-stream.ts'
import { blobStoreContract } from './blob-store-contract.ts'

async function freshRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'skillet-blobs-'))
}

blobStoreContract(
  async () => {
    const root = await freshRoot()
    return {
      store: new FsBlobStore({ root }),
      leftovers: async () => readdir(join(root, '.tmp')).catch(() => []),
      close: () => rm(root, { recursive: true, force: true }),
    }
  },
  // A store that buffered the body would grow by at least its 256 MiB; streaming grows by a
  // fraction of that (garbage 1 MiB chunks waiting for the GC), measured ~90 MiB.
  { bigPutBytes: 256 * MiB, rssGrowthBudgetBytes: 128 * MiB },
)

t.test('fs: blobs are plain files under the root, and deletes leave no empty folders', async (t) => {
  const root = await freshRoot()
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const store = new FsBlobStore({ root })
  await store.put('jobs/j1/ckpt/1.bin', Buffer.from('abc'))
  t.equal((await stat(join(root, 'jobs', 'j1', 'ckpt', '1.bin'))).size, 3)
  await store.deletePrefix('jobs/j1/')
  t.same((await readdir(root)).filter((n) => n !== '.tmp'), [], 'jobs/j1/ckpt folders pruned')
})

t.test('fs: presignPut has nothing to offer', async (t) => {
  const root = await freshRoot()
  t.teardown(() => rm(root, { recursive: true, force: true }))
  t.equal(await new FsBlobStore({ root }).presignPut('a', 60), null)
})

t.test('fs: ping fails when the root cannot hold files', async (t) => {
  const root = await freshRoot()
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const notADir = join(root, 'file')
  await writeFile(notADir, 'x')
  await t.rejects(new FsBlobStore({ root: notADir }).ping(), { code: 'ENOTDIR' })
})

t.test('createBlobStore picks the implementation from the config', async (t) => {
  const fs = createBlobStore({ kind: 'fs', root: '/nonexistent' })
  t.equal(fs.kind, 'fs')
  t.ok(fs instanceof FsBlobStore)
  const s3 = createBlobStore({ kind: 's3', bucket: 'b', region: 'us-east-1', endpoint: 'http://127.0.0.1:1', forcePathStyle: true })
  t.equal(s3.kind, 's3')
})

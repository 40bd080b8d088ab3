// Loading a model stored under a BlobStore prefix (the filesystem store; S3 shares its contract).
import t from 'tap'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir, loadModelFromBlobStore } from '../../src/trainer/io/load-model.ts'

t.test('copies every file under the prefix into the cache, then loads it like a local dir', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'qwen2', dir: join(dir, 'source'), seed: 2 })
  const store = new FsBlobStore({ root: join(dir, 'blobs') })
  const files = await readdir(join(dir, 'source'))
  for (const file of files) await store.put(`models/tiny-qwen2/${file}`, await readFile(join(dir, 'source', file)))
  await store.put('models/other/config.json', Buffer.from('{}'))

  // A stale, truncated file in the cache must be replaced, not trusted.
  await makeTinyModel({ architecture: 'qwen2', dir: join(dir, 'cache'), seed: 2 })
  await writeFile(join(dir, 'cache', 'model.safetensors'), 'partial')

  const loaded = await loadModelFromBlobStore(store, 'models/tiny-qwen2', join(dir, 'cache'))
  const local = await loadModelDir(join(dir, 'source'))
  t.same((await readdir(join(dir, 'cache'))).sort(), files.sort(), 'exactly the prefix\'s files, no leftovers')
  t.same(loaded.config, { ...local.config })
  t.same([...loaded.weights.keys()], [...local.weights.keys()])
  for (const [name, w] of local.weights) t.same(Array.from(loaded.weights.get(name)!.data.subarray(0, 8)), Array.from(w.data.subarray(0, 8)), name)
  t.equal(loaded.chatTemplate, local.chatTemplate)
  await t.rejects(loadModelFromBlobStore(store, 'models/missing', join(dir, 'cache2')), /no model files under models\/missing\//)
})

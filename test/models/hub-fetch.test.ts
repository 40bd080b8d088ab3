// The Hub download on its own, against the loopback fake Hub and a filesystem blob store: parts
// resumed after a stop, a server that ignores Range, a Hub that keeps failing, the parts bookkeeping.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { contiguousParts, fetchHubModel, partName } from '../../src/models/hub-fetch.ts'
import { createBlobStore } from '../../src/storage/index.ts'
import { startFakeHub } from '../helpers/fake-hub.ts'

const W = 'model.safetensors'

async function store(t: { teardown(fn: () => unknown): void }) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'skillet-hub-fetch-'))
  t.teardown(() => fs.rm(root, { recursive: true, force: true }))
  return createBlobStore({ kind: 'fs', root })
}

async function bytesOf(blobs: Awaited<ReturnType<typeof store>>, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of await blobs.get(key)) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

t.test('contiguous parts from byte 0; a gap or a wrong length ends the run', async (t) => {
  const p = 'x/'
  const part = (o: number, n: number, bytes = n) => ({ key: `${p}${partName(o, n)}`, bytes })
  t.same(contiguousParts([part(10, 5), part(0, 10), part(20, 3)], p), { keys: [`${p}${partName(0, 10)}`, `${p}${partName(10, 5)}`], bytes: 15 })
  t.same(contiguousParts([part(0, 10, 7)], p), { keys: [], bytes: 0 }, 'a part whose size is not its name is ignored')
  t.same(contiguousParts([{ key: `${p}junk`, bytes: 3 }], p), { keys: [], bytes: 0 })
})

t.test('an aborted fetch keeps its bytes; the next one resumes after them', async (t) => {
  const weights = randomBytes(40_000)
  const stop = new AbortController()
  let reached = 0
  const hub = await startFakeHub({ 'o/r': { sha: 's1', files: { 'config.json': '{}', [W]: weights } } }, {
    throttle: { bytes: 1000, delayMs: 0 },
    gate: (file, offset) => {
      if (file === W && offset >= 15_000 && !stop.signal.aborted) return new Promise(() => {}) // held until the client leaves
    },
  })
  t.teardown(() => hub.close())
  const blobs = await store(t)
  const opts = { endpoint: hub.endpoint, repo: 'o/r', revision: 'main', blobs, prefix: 'models/hub/o/r/', partBytes: 4000 }
  const first = fetchHubModel({ ...opts, signal: stop.signal, onProgress: (p) => (reached = p.bytes) })
  while (reached < 2 + 15_000) await new Promise((r) => setTimeout(r, 10))
  stop.abort(new Error('stop'))
  await t.rejects(first, /stop/)
  t.same(await blobs.list('models/hub/o/r/s1/model'), [], 'nothing under the model')
  t.equal((await blobs.list('models/hub-partial/o/r/')).reduce((n, b) => n + b.bytes, 0), 15_000, 'every byte that arrived is kept in parts')
  const done = await fetchHubModel(opts)
  t.same(done.files, ['config.json', W])
  t.equal(hub.ranges[W].at(-1), 'bytes=15000-')
  t.ok((await bytesOf(blobs, `models/hub/o/r/s1/${W}`)).equals(weights))
  t.same(await blobs.list('models/hub-partial/'), [])
})

t.test('a server that ignores Range: the file starts over, whole', async (t) => {
  const weights = randomBytes(20_000)
  const hub = await startFakeHub({ 'o/r': { sha: 's2', files: { 'config.json': '{}', [W]: weights } } }, { breakAt: { [W]: 7_000 } })
  t.teardown(() => hub.close())
  const blobs = await store(t)
  const dropRange: typeof fetch = (input, init) => {
    const headers = { ...(init?.headers as Record<string, string>) }
    delete headers.range
    return fetch(input, { ...init, headers })
  }
  await fetchHubModel({ endpoint: hub.endpoint, repo: 'o/r', revision: 'main', blobs, prefix: 'm/', fetch: dropRange, retryDelayMs: () => 0 })
  t.ok((await bytesOf(blobs, `m/s2/${W}`)).equals(weights))
})

t.test('a Hub that keeps answering 5xx: a clear error after the tries, no file', async (t) => {
  const hub = await startFakeHub({ 'o/r': { sha: 's3', files: { 'config.json': '{}', [W]: 'x' } } }, { status: { [W]: 503 } })
  t.teardown(() => hub.close())
  const blobs = await store(t)
  await t.rejects(fetchHubModel({ endpoint: hub.endpoint, repo: 'o/r', revision: 'main', blobs, prefix: 'm/', maxTries: 3, retryDelayMs: () => 0 }), {
    name: 'HubFetchError',
    message: `Downloading ${W} from o/r failed after 3 tries without progress (Downloading ${W} from o/r failed with status 503).`,
  })
  t.equal(hub.ranges[W].length, 3)
  t.same(await blobs.list(`m/s3/${W}`), [])
})

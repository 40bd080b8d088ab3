// The real server process on embedded defaults: first-start key, streaming memory, graceful SIGTERM.
import { Readable } from 'node:stream'
import t from 'tap'
import { startServerProcess } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { filler, postFileStream } from '../helpers/multipart-upload.ts'

const KEY = 'sk-test-server-process-0123456789abcdef'

function uploadRaw(baseURL: string, size: number, opts: { beforeEnd?: () => Promise<void>; chunk?: number } = {}) {
  return postFileStream(baseURL, KEY, Readable.from(filler(size, opts.chunk)), size, { beforeLastChunk: opts.beforeEnd })
}

t.test('first start prints a generated admin key once; a restart does not', async (t) => {
  const dataDir = await tmpDir(t)
  const first = await startServerProcess({ SKILLET_DATA_DIR: dataDir })
  const key = /\n\s+(sk-[A-Za-z0-9]{48})\n/.exec(first.output())?.[1]
  t.ok(key, 'a key was printed')
  const res = await fetch(`${first.baseURL}/v1/files`, { headers: { authorization: `Bearer ${key}` } })
  t.equal(res.status, 200, 'the printed key works')
  await first.stop()
  t.equal(await first.exited, 0, 'SIGTERM exits cleanly')
  const second = await startServerProcess({ SKILLET_DATA_DIR: dataDir })
  t.notMatch(second.output(), /sk-[A-Za-z0-9]{48}/, 'no key printed on restart')
  t.equal((await fetch(`${second.baseURL}/v1/files`, { headers: { authorization: `Bearer ${key}` } })).status, 200, 'the key survives a restart')
  await second.stop()
})

t.test('a 300 MB upload streams: server RSS grows by less than 100 MB', async (t) => {
  const dataDir = await tmpDir(t)
  const server = await startServerProcess({ SKILLET_DATA_DIR: dataDir, SKILLET_API_KEY: KEY })
  t.teardown(() => server.stop())
  // Warm up the upload path so one-time allocations are not counted as growth.
  t.equal((await uploadRaw(server.baseURL, 1024 * 1024)).status, 200)
  const baseline = server.rss()
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, server.rss())), 20)
  const size = 300 * 1000 * 1000
  const res = await uploadRaw(server.baseURL, size)
  clearInterval(sampler)
  t.equal(res.status, 200, res.body.slice(0, 300))
  t.equal(JSON.parse(res.body).bytes, size)
  const growthMb = (peak - baseline) / 1e6
  t.comment(`RSS baseline ${(baseline / 1e6).toFixed(0)} MB, peak ${(peak / 1e6).toFixed(0)} MB, growth ${growthMb.toFixed(1)} MB`)
  t.ok(growthMb < 100, `RSS grew ${growthMb.toFixed(1)} MB (< 100 MB)`)
})

t.test('SIGTERM lets an in-flight upload finish, then exits 0', async (t) => {
  const dataDir = await tmpDir(t)
  const server = await startServerProcess({ SKILLET_DATA_DIR: dataDir, SKILLET_API_KEY: KEY })
  t.teardown(() => server.stop())
  const res = await uploadRaw(server.baseURL, 8 * 1024 * 1024, {
    chunk: 256 * 1024,
    beforeEnd: async () => {
      server.child.kill('SIGTERM')
      await new Promise((r) => setTimeout(r, 300))
    },
  })
  t.equal(res.status, 200, 'the upload that was in flight completed')
  t.equal(JSON.parse(res.body).bytes, 8 * 1024 * 1024)
  t.equal(await server.exited, 0, 'then the process exited cleanly')
})

// A loopback stand-in for the Hugging Face Hub: GET /api/models/{owner}/{repo}/revision/{rev}[?blobs=true]
// lists files (with their sizes) and pins a commit sha; GET /{owner}/{repo}/resolve/{sha}/{file}
// redirects to a CDN-like path that serves the bytes, as the real Hub does for large files. The CDN
// honours `Range: bytes=N-` (206 + Content-Range), and can be made slow (a throttled transfer), held
// at a byte until the test lets it go, broken once mid-file, or made to fail with a status.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeHubOptions {
  /** Serve a file in pieces of `bytes`, each after `delayMs`: a slow transfer. */
  throttle?: { bytes: number; delayMs: number }
  /** Awaited before each piece is sent (offset: the piece's first byte); lets a test hold a transfer at a byte. */
  gate?: (file: string, offset: number) => Promise<void> | void
  /** Break the connection once per file, after sending the file up to this byte (exclusive). */
  breakAt?: Record<string, number>
  /** The status every CDN request for a file gets (e.g. 500). */
  status?: Record<string, number>
}

export interface FakeHub {
  endpoint: string
  requests: string[]
  /** The Range header of each CDN request, per file ('' when none). */
  ranges: Record<string, string[]>
  /** CDN transfers the client closed before the end. */
  abandoned: string[]
  close(): Promise<void>
}

type RepoFiles = Record<string, string | Buffer>

export async function startFakeHub(repos: Record<string, { sha: string; files: RepoFiles }>, opts: FakeHubOptions = {}): Promise<FakeHub> {
  const requests: string[] = []
  const ranges: Record<string, string[]> = {}
  const abandoned: string[] = []
  const broken = new Set<string>()
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '')
    requests.push(url)
    const path = url.split('?')[0]
    const info = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path)
    if (info) {
      const repo = repos[info[1]]
      if (!repo) return void res.writeHead(404).end('{"error":"Repository not found"}')
      res.setHeader('content-type', 'application/json')
      const siblings = Object.entries(repo.files).map(([rfilename, body]) => ({ rfilename, size: Buffer.byteLength(body) }))
      return void res.end(JSON.stringify({ id: info[1], sha: repo.sha, siblings }))
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path)
    if (resolve) {
      const repo = repos[resolve[1]]
      if (!repo || resolve[2] !== repo.sha || !(resolve[3] in repo.files)) return void res.writeHead(404).end()
      return void res.writeHead(302, { location: `/cdn/${resolve[1]}/${resolve[3]}` }).end()
    }
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(path)
    const body = cdn ? repos[cdn[1]]?.files[cdn[2]] : undefined
    if (!cdn || body === undefined) return void res.writeHead(404).end()
    const file = cdn[2]
    void serveFile(file, Buffer.from(body), req, res)
  })

  async function serveFile(file: string, bytes: Buffer, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const range = req.headers.range ?? ''
    ;(ranges[file] ??= []).push(range)
    const status = opts.status?.[file]
    if (status) return void res.writeHead(status).end()
    const m = /^bytes=(\d+)-$/.exec(range)
    const start = m ? Number(m[1]) : 0
    if (start >= bytes.length && bytes.length > 0) return void res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end()
    const headers = { 'content-length': String(bytes.length - start), 'accept-ranges': 'bytes' }
    if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` })
    else res.writeHead(200, headers)
    let closed = false
    res.on('close', () => {
      if (!res.writableFinished && !closed) abandoned.push(file)
      closed = true
    })
    const piece = opts.throttle?.bytes ?? bytes.length
    const breakAt = broken.has(file) ? undefined : opts.breakAt?.[file]
    for (let at = start; at < bytes.length && !closed; ) {
      await opts.gate?.(file, at)
      if (opts.throttle) await new Promise((r) => setTimeout(r, opts.throttle!.delayMs))
      if (closed) return
      let end = Math.min(bytes.length, at + Math.max(1, piece))
      if (breakAt !== undefined && at < breakAt && end >= breakAt) end = breakAt
      if (end > at) await new Promise<void>((r) => res.write(bytes.subarray(at, end), () => r()))
      at = end
      if (breakAt !== undefined && at === breakAt) {
        broken.add(file)
        closed = true
        res.socket?.destroy()
        return
      }
    }
    if (!closed) res.end()
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    ranges,
    abandoned,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

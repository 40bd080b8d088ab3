// A loopback stand-in for the Hugging Face Hub: GET /api/models/{owner}/{repo}/revision/{rev} lists
// files and pins a commit sha; GET /{owner}/{repo}/resolve/{sha}/{file} redirects to a CDN-like
// path that serves the bytes, as the real Hub does for large files.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeHub {
  endpoint: string
  requests: string[]
  close(): Promise<void>
}

export async function startFakeHub(repos: Record<string, { sha: string; files: Record<string, string> }>): Promise<FakeHub> {
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '')
    requests.push(url)
    const info = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url)
    if (info) {
      const repo = repos[info[1]]
      if (!repo) return void res.writeHead(404).end('{"error":"Repository not found"}')
      res.setHeader('content-type', 'application/json')
      return void res.end(JSON.stringify({ id: info[1], sha: repo.sha, siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })) }))
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url)
    if (resolve) {
      const repo = repos[resolve[1]]
      if (!repo || resolve[2] !== repo.sha || !(resolve[3] in repo.files)) return void res.writeHead(404).end()
      return void res.writeHead(302, { location: `/cdn/${resolve[1]}/${resolve[3]}` }).end()
    }
    const cdn = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url)
    if (cdn && repos[cdn[1]]?.files[cdn[2]] !== undefined) return void res.end(repos[cdn[1]].files[cdn[2]])
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { endpoint: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

// A webhook receiver on loopback for tests: records every request and answers as scripted.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface ReceivedWebhook {
  headers: Record<string, string>
  body: string
}

export interface Receiver {
  url: string
  port: number
  received: ReceivedWebhook[]
  /** Resolves when `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>
  /** Drops every open connection: a request left hanging then fails on the sender's side. */
  dropConnections(): void
}

/** `answer(n)` gives the status for the n-th request (1-based); 'hang' never answers. */
export async function startReceiver(t: Test, answer: (n: number, req: ReceivedWebhook) => number | 'hang' = () => 200, host = '127.0.0.1'): Promise<Receiver> {
  const received: ReceivedWebhook[] = []
  const waiters: Array<() => void> = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
      const hook = { headers, body: Buffer.concat(chunks).toString('utf8') }
      received.push(hook)
      for (const w of waiters.splice(0)) w()
      const status = answer(received.length, hook)
      if (status === 'hang') return
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/hook`,
    port,
    received,
    dropConnections: () => server.closeAllConnections(),
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} of ${count} webhooks`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 50)
        })
      }
    },
  }
}

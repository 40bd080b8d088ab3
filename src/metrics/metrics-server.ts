// A listener of its own for Prometheus: GET /metrics and nothing else, on SKILLET_METRICS_PORT. Kept off
// the API port so the metrics are never public by accident (expose this port to the scraper only).
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { SkilletMetrics } from './skillet-metrics.ts'

export interface MetricsServer {
  port: number
  close(): Promise<void>
}

/**
 * Listens on host:port. A port already in use is logged, not fatal: metrics are worth less than the
 * API (or worker) they describe, which keeps running. Resolves with null then.
 */
export async function startMetricsServer(metrics: SkilletMetrics, opts: { host: string; port: number; log: Logger }): Promise<MetricsServer | null> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n')
      return
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err: unknown) => {
        opts.log.error({ err }, 'collecting metrics failed')
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n')
      },
    )
  })
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err) => {
      opts.log.error({ err, port: opts.port }, 'metrics port unavailable; metrics are not served')
      resolve(false)
    })
    server.listen(opts.port, opts.host, () => resolve(true))
  })
  if (!listening) return null
  const port = (server.address() as AddressInfo).port
  opts.log.info({ port }, 'metrics served on /metrics')
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// The web dashboard at `/`: index.html (never cached: it names the current hashed assets) and
// /assets/* (content-hashed names, cached for a year). A strict Content-Security-Policy: scripts only
// from this origin, no inline scripts, no framing. The dashboard is a plain client of /v1.
import fs from 'node:fs/promises'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { UiBundle } from '../ui/build/ui-bundle.ts'

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const YEAR_MS = 365 * 24 * 3600 * 1000

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', UI_CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
}

const NOT_READY = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Skillet</title></head>
<body><p>The Skillet dashboard is being built (first start). This page reloads in a few seconds.</p></body></html>`

export default async function uiRoutes(app: FastifyInstance, { bundle }: { bundle: UiBundle }) {
  await fs.mkdir(path.dirname(bundle.dir), { recursive: true })
  await app.register(fastifyStatic, { root: path.dirname(bundle.dir), serve: false })
  let index: string | null = null
  bundle.ready.then(
    () => {},
    (err: Error) => app.log.error({ err }, 'the dashboard bundle could not be built; / answers 500'),
  )

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    securityHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8')
    if (bundle.error()) return reply.code(500).send('<!doctype html><p>The Skillet dashboard could not be built: see the server log.</p>')
    if (!bundle.isReady()) return reply.code(503).header('retry-after', '3').send(NOT_READY)
    index ??= await fs.readFile(path.join(bundle.dir, 'index.html'), 'utf8')
    return reply.send(index)
  })

  app.get('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*']
    if (!bundle.isReady() || name.includes('..')) return reply.code(404).send({ error: { message: 'No such asset.', type: 'invalid_request_error', param: null, code: null } })
    securityHeaders(reply)
    return reply.sendFile(path.join('assets', name), bundle.dir, { immutable: true, maxAge: YEAR_MS, cacheControl: true })
  })
}

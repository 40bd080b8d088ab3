// The API's side of the metrics: a request-duration histogram by route pattern (never the raw URL,
// whose ids would make a series per job) and — only when a token is configured — GET /metrics on the
// API port, answered to that bearer token alone.
// Also tags request logs with the job id of job routes, so one job's story can be grepped.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { bearerToken } from '../auth/api-keys.ts'
import { unauthorized } from '../lib/errors.ts'
import type { SkilletMetrics } from './skillet-metrics.ts'

const digest = (s: string) => createHash('sha256').update(s).digest()

export default fp(
  async function httpMetrics(app: FastifyInstance, opts: { metrics: SkilletMetrics | undefined; token: string | undefined }) {
    const { metrics, token } = opts

    app.addHook('onRequest', async (request) => {
      const params = request.params as Record<string, unknown> | undefined
      const jobId = params?.fine_tuning_job_id ?? (request.routeOptions.url?.startsWith('/internal/v1/jobs/:id') ? params?.id : undefined)
      if (typeof jobId === 'string') request.log = request.log.child({ jobId })
    })

    if (!metrics) return

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched'
      metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    })

    if (token === undefined) return
    const expected = digest(token)
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const given = bearerToken(request.headers.authorization)
      // Compared as digests: equal length, constant time, whatever was sent.
      if (!given || !timingSafeEqual(digest(given), expected)) throw unauthorized('GET /metrics needs Authorization: Bearer <SKILLET_METRICS_TOKEN>.')
      const { contentType, body } = await metrics.render()
      return reply.header('content-type', contentType).send(body)
    })
  },
  { name: 'skillet-http-metrics' },
)

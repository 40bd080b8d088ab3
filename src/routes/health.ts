import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AppServices } from '../services/app-services.ts'

const Health = Type.Object({ status: Type.String() })

/** /healthz (and /health, the name many try first): the process is up. /readyz: the database and the blob store answer. */
const healthRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  for (const url of ['/healthz', '/health']) {
    app.get(url, { schema: { summary: 'Liveness: the process is up', tags: ['Health'], security: [], response: { 200: Health } } }, async () => ({ status: 'ok' }))
  }

  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: the database and the blob store answer', tags: ['Health'], security: [], response: { 200: Health, 503: Type.Object({ status: Type.String(), failing: Type.Array(Type.String()) }) } } },
    async (_request, reply) => {
      const checks = await Promise.allSettled([services.database.ping(), services.blobs.ping()])
      const failing = [checks[0].status === 'rejected' ? 'database' : null, checks[1].status === 'rejected' ? 'blob_store' : null].filter(
        (x): x is string => x !== null,
      )
      if (failing.length > 0) return reply.status(503).send({ status: 'unavailable', failing })
      return { status: 'ok' }
    },
  )
}

export default healthRoutes

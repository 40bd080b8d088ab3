// Bearer-key authentication for /v1. Each request learns its project; every query is scoped to it.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../db/database.ts'
import { bearerToken } from '../auth/api-keys.ts'
import { unauthorized } from '../lib/errors.ts'
import { findPrincipal, type Principal } from '../services/projects.ts'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal
  }
}

/** Keys are looked up at most once per TTL per process; a revoked key stops working within the TTL. */
const CACHE_TTL_MS = 5_000
const CACHE_MAX = 10_000

export default fp(
  async function auth(app: FastifyInstance, opts: { db: Db }) {
    const cache = new Map<string, { principal: Principal | null; at: number }>()
    async function lookup(key: string): Promise<Principal | null> {
      const hit = cache.get(key)
      if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.principal
      const principal = await findPrincipal(opts.db, key)
      if (cache.size >= CACHE_MAX) cache.clear()
      cache.set(key, { principal, at: Date.now() })
      return principal
    }

    app.decorateRequest('principal', null as unknown as Principal)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const key = bearerToken(request.headers.authorization)
      if (!key) {
        throw unauthorized(
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )
      }
      const principal = await lookup(key)
      if (!principal) throw unauthorized(`Incorrect API key provided: ${redact(key)}.`)
      request.principal = principal
      request.log = request.log.child({ projectId: principal.projectId })
    })
  },
  { name: 'skillet-auth' },
)

declare module 'fastify' {
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>
  }
}

/** "sk-abc…wxyz": enough to recognise a key, never enough to use it. */
export function redact(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`
}

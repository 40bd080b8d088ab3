// JSON request bodies: accepted only as application/json, parsed with Fastify's own protection
// against prototype poisoning, and refused with a message that says what is wrong — where the
// JSON breaks, or which forbidden key it holds — instead of Fastify's "Body is not valid JSON".
// A JSON body sent as text/plain gets a 415 naming the right Content-Type.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import { ApiError, invalidRequest } from '../lib/errors.ts'

export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw invalidRequest('The request body is empty; expected a JSON object.')
  try {
    return secureJson.parse(text, null, { protoAction: 'error', constructorAction: 'error' })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (/prototype property/.test(message)) {
      throw invalidRequest("We could not accept the JSON body of your request: the keys '__proto__' and 'constructor.prototype' are not allowed.")
    }
    throw invalidRequest(`We could not parse the JSON body of your request: ${message}.`)
  }
}

export default fp(
  async function jsonBody(app: FastifyInstance) {
    app.removeContentTypeParser(['application/json', 'text/plain'])
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseJsonBody(body as string))
      } catch (err) {
        done(err as ApiError, undefined)
      }
    })
  },
  { name: 'skillet-json-body' },
)

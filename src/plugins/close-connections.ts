// When the server closes, a keep-alive connection whose response finishes after close() began is
// ended right then, instead of lingering until its keep-alive timeout.
//
// Why: Node's server.close() ends the connections idle at that moment (closeIdleConnections) and
// waits for the others. A connection still sending a response goes back to keep-alive once the
// response is out, nothing ends it, and close() waits for its keepAliveTimeout — Fastify's default
// is 72 s. Seen: a download that the client had read to its last byte, its response's 'finish' a
// tick behind, held app.close() (and so a graceful shutdown, or a test's teardown) for 70 s.
// In-flight responses still complete: only the connection after them is ended. Hijacked replies
// (server-sent events) are covered too, as this listens on the raw response.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export default fp(
  async function closeConnectionsPlugin(app: FastifyInstance) {
    let closing = false
    // preClose runs before Fastify calls server.close().
    app.addHook('preClose', async () => {
      closing = true
    })
    app.addHook('onRequest', async (request, reply) => {
      // Read now: Node detaches the socket from the response when it finishes, before our listener runs.
      const socket = request.raw.socket
      reply.raw.once('finish', () => {
        if (closing && !socket.destroyed) socket.end()
      })
    })
  },
  { name: 'skillet-close-connections' },
)

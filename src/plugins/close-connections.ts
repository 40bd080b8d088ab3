// When the server closes, a keep-alive connection whose response finishes after close() began is
// ended right then, instead of lingering until its keep-alive timeout.
//
// Why: Node's server.close() ends the connections idle at that moment (closeIdleConnections) and
// waits for the others. A connection still sending a response goes back to keep-alive once the
// response is out, and close() waits for its keepAliveTimeout — Fastify's default is 72 s. Seen: a
// download that the client had read to its last byte, its response's 'finish' a tick behind, held
// app.close() (and so a graceful shutdown, or a test's teardown) for 70 s.
// Node arms a connection's idle timer from server.keepAliveTimeout when each response finishes, so
// lowering it as closing begins ends those connections a millisecond after their response; in-flight
// responses still complete, and nothing is added to the path of a request.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export default fp(
  async function closeConnectionsPlugin(app: FastifyInstance) {
    // preClose runs before Fastify calls server.close(). (0 would mean no timeout at all.)
    app.addHook('preClose', async () => {
      app.server.keepAliveTimeout = 1
    })
  },
  { name: 'skillet-close-connections' },
)

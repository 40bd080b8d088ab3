import type { FastifyRequest } from 'fastify'

/** An AbortSignal that fires when the client goes away before its request body was fully sent. */
export function abortOnDisconnect(request: FastifyRequest): AbortSignal {
  const abort = new AbortController()
  request.raw.once('close', () => {
    if (!request.raw.complete) abort.abort(new Error('client disconnected'))
  })
  return abort.signal
}

import type { FastifyReply, FastifyRequest } from 'fastify'

/** An AbortSignal that fires when the client goes away before its request body was fully sent. */
export function abortOnDisconnect(request: FastifyRequest): AbortSignal {
  const abort = new AbortController()
  request.raw.once('close', () => {
    if (!request.raw.complete) abort.abort(new Error('client disconnected'))
  })
  return abort.signal
}

/**
 * An AbortSignal that fires when the client goes away before the whole response was sent
 * (a streamed answer cut short, or a client that stopped waiting).
 */
export function abortWhenResponseCloses(reply: FastifyReply): AbortSignal {
  const abort = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected'))
  })
  return abort.signal
}

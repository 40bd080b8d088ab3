// The shared edge of the two inference routes: 400 for n ≠ 1, and the answer as JSON or as
// Server-Sent Events. A client that goes away stops the stream (and so the generation) at once.
import type { FastifyReply } from 'fastify'
import { ApiError, invalidRequest } from '../../lib/errors.ts'
import { SseWriter } from '../../lib/server-sent-events.ts'

export function onlyOneChoice(body: { n?: number | null; best_of?: number | null }): void {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalidRequest(`Only n=1 is supported, got n=${body.n}.`, 'n', 'invalid_value')
}

/** Streams `chunks` as SSE; stops (returning the iterator, which frees the model slot) when the client leaves. */
export async function sendSse(reply: FastifyReply, chunks: AsyncGenerator<unknown>): Promise<void> {
  reply.hijack()
  const headers = Object.fromEntries(Object.entries(reply.getHeaders()).map(([k, v]) => [k, String(v)]))
  const sse = new SseWriter(reply.raw, headers)
  try {
    for await (const chunk of chunks) {
      if (!(await sse.send(chunk))) return
    }
    await sse.done()
  } catch (err) {
    // Headers are gone: the error travels as an event in OpenAI's envelope, then the stream ends.
    const apiError = err instanceof ApiError ? err : new ApiError(500, 'The server had an error while processing your request. Sorry about that!')
    if (!(err instanceof ApiError)) reply.log.error({ err }, 'inference stream failed')
    await sse.send(apiError.toBody())
    reply.raw.end()
  } finally {
    await chunks.return(undefined)
  }
}

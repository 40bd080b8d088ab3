// app.close() while a download is still being sent on a keep-alive connection: the download
// completes, then the server ends that connection and close() returns — instead of waiting out the
// keep-alive timeout (72 s, Fastify's default) as it did (src/plugins/close-connections.ts).
import http from 'node:http'
import { once } from 'node:events'
import t from 'tap'
import { uploadDataset } from '../helpers/jobs-test-app.ts'
import { startTestApp } from '../helpers/test-app.ts'

t.test('a response in flight at close() completes, and its keep-alive connection is ended after it', async (t) => {
  const ctx = await startTestApp(t)
  // ~8 MB: more than the socket buffers hold, so the response cannot finish while the client does not read.
  const examples = Array.from({ length: 40_000 }, (_, i) => ({ messages: [{ role: 'user', content: `question ${i} ${'x'.repeat(100)}` }, { role: 'assistant', content: `answer ${i} ${'y'.repeat(60)}` }] }))
  const file = await uploadDataset(ctx.client, examples)
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const request = http.get(`${ctx.baseURL}/files/${file.id}/content`, { agent, headers: { authorization: `Bearer ${ctx.key}` } })
  const [response] = (await once(request, 'response')) as [http.IncomingMessage]
  t.equal(response.statusCode, 200)
  t.equal(response.headers.connection, 'keep-alive', 'a keep-alive connection')
  response.pause()
  const socketEnded = once(request.socket!, 'close').then(() => 'ended by the server')

  const closed = ctx.app.close().then(() => 'closed')
  // Read the rest only once close() has begun: the response finishes while the server is closing.
  await new Promise((resolve) => setTimeout(resolve, 100))
  const chunks: Buffer[] = []
  response.on('data', (chunk: Buffer) => chunks.push(chunk))
  response.resume()
  await once(response, 'end')
  t.equal(Buffer.concat(chunks).length, file.bytes, `the whole file arrived (${file.bytes} bytes)`)
  const within10s = async (outcome: Promise<string>, otherwise: string) => {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve(otherwise), 10_000) })
    try {
      return await Promise.race([outcome, late])
    } finally {
      clearTimeout(timer)
    }
  }
  t.equal(await within10s(socketEnded, 'still open after 10 s'), 'ended by the server', 'the connection is ended once the response is out')
  t.equal(await within10s(closed, 'close() still waiting after 10 s'), 'closed', 'and close() returns')
})

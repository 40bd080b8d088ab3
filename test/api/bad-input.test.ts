// Bad input of every kind gets a 4xx in OpenAI's envelope, never a 5xx nor Fastify's own format:
// NUL characters, malformed multipart, framework-level errors, numbers sent as strings.
import http from 'node:http'
import t, { type Test } from 'tap'
import { startTestApp, type TestApp } from '../helpers/test-app.ts'
import { specErrors } from '../helpers/openai-spec.ts'

interface Answer {
  status: number
  body: { error: { message: string; type: string; param: string | null; code: string | null } }
}

/** A raw HTTP request (fetch refuses some of what we need to send: bad escapes, huge headers). */
function raw(ctx: TestApp, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; text: string }> {
  const url = new URL(ctx.baseURL)
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: opts.method ?? 'GET', path: opts.path, headers: { authorization: `Bearer ${ctx.key}`, ...opts.headers } },
      (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

async function call(ctx: TestApp, opts: Parameters<typeof raw>[1]): Promise<Answer> {
  const res = await raw(ctx, opts)
  return { status: res.status, body: JSON.parse(res.text) }
}

function assertEnvelope(t: Test, answer: Answer, status: number, param?: string | null) {
  t.equal(answer.status, status, `status ${status}: ${JSON.stringify(answer.body)}`)
  t.same(specErrors('ErrorResponse', answer.body), [], 'OpenAI error envelope')
  t.same(Object.keys(answer.body.error).sort(), ['code', 'message', 'param', 'type'])
  if (param !== undefined) t.equal(answer.body.error.param, param)
}

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

t.test('a NUL character anywhere in client input is a 400 naming the parameter', async (t) => {
  const ctx = await startTestApp(t)
  const cases: [string, Parameters<typeof raw>[1], string][] = [
    ['path id', { path: '/v1/files/file-%00x' }, 'file_id'],
    ['job path id', { path: '/v1/fine_tuning/jobs/ftjob-%00/events' }, 'fine_tuning_job_id'],
    ['after', { path: '/v1/files?after=a%00b' }, 'after'],
    ['metadata filter value', { path: '/v1/fine_tuning/jobs?metadata%5Bk%5D=%00' }, 'metadata[k]'],
    ['metadata filter key', { path: '/v1/fine_tuning/jobs?metadata%5Bk%00%5D=v' }, 'metadata[k\\u0000]'],
    ['training_file', { method: 'POST', path: '/v1/fine_tuning/jobs', ...json({ model: 'skillet-tiny-llama', training_file: 'file-\u0000' }) }, 'training_file'],
    ['metadata key', { method: 'POST', path: '/v1/fine_tuning/jobs', ...json({ model: 'm', training_file: 'file-x', metadata: { 'a\u0000': 'b' } }) }, 'metadata.a\\u0000'],
    ['metadata value', { method: 'POST', path: '/v1/fine_tuning/jobs', ...json({ model: 'm', training_file: 'file-x', metadata: { a: 'b\u0000' } }) }, 'metadata.a'],
    ['integrations', { method: 'POST', path: '/v1/fine_tuning/jobs', ...json({ model: 'm', training_file: 'file-x', integrations: [{ type: 'wandb', wandb: { project: '\u0000' } }] }) }, 'integrations.0.wandb.project'],
    ['webhook name', { method: 'POST', path: '/v1/webhook_endpoints', ...json({ name: 'a\u0000', url: 'https://example.com/h', event_types: ['fine_tuning.job.failed'] }) }, 'name'],
    ['upload filename', { method: 'POST', path: '/v1/uploads', ...json({ filename: 'a\u0000.jsonl', purpose: 'fine-tune', bytes: 10, mime_type: 'text/jsonl' }) }, 'filename'],
  ]
  for (const [what, req, param] of cases) {
    const answer = await call(ctx, req)
    assertEnvelope(t, answer, 400, param)
    t.match(answer.body.error.message, /NUL/, what)
    t.notOk(answer.body.error.message.includes('\u0000'), `${what}: the message itself holds no NUL`)
  }
})

const multipart = (boundary: string, parts: string) => ({
  method: 'POST',
  path: '/v1/files',
  headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  body: parts,
})
const field = (b: string, name: string, value: string) => `--${b}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
const filePart = (b: string, filename: string, content: string) =>
  `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n${content}\r\n`

t.test('multipart bodies: malformed, two files, NUL in a filename → 400', async (t) => {
  const ctx = await startTestApp(t)
  const b = 'XyZ'
  const noBoundary = await call(ctx, { method: 'POST', path: '/v1/files', headers: { 'content-type': 'multipart/form-data' }, body: field(b, 'purpose', 'user_data') })
  assertEnvelope(t, noBoundary, 400)
  const truncated = await call(ctx, multipart(b, field(b, 'purpose', 'user_data') + `--${b}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhalf a fi`))
  assertEnvelope(t, truncated, 400)
  const two = await call(ctx, multipart(b, field(b, 'purpose', 'user_data') + filePart(b, 'a.txt', 'one') + filePart(b, 'b.txt', 'two') + `--${b}--\r\n`))
  assertEnvelope(t, two, 400)
  t.match(two.body.error.message, /one file/i)
  const nulName = await call(ctx, multipart(b, field(b, 'purpose', 'user_data') + filePart(b, 'a\u0000.txt', 'x') + `--${b}--\r\n`))
  assertEnvelope(t, nulName, 400, 'filename')
  const nulField = await call(ctx, multipart(b, field(b, 'purpose', 'user\u0000data') + filePart(b, 'a.txt', 'x') + `--${b}--\r\n`))
  assertEnvelope(t, nulField, 400, 'purpose')
  t.same(await ctx.blobs.list('files/'), [], 'nothing stored')
  const listed = await ctx.client.files.list()
  t.equal(listed.data.length, 0, 'no file recorded')
})

t.test('framework errors use the envelope: long path parameter, bad escape, huge headers', async (t) => {
  const ctx = await startTestApp(t)
  const long = await call(ctx, { path: `/v1/files/file-${'a'.repeat(5000)}` })
  assertEnvelope(t, long, 414)
  t.notMatch(long.body.error.message, /aaaaaaaaaa/, 'the URL is not echoed')
  const badEscape = await call(ctx, { path: '/v1/files/%ZZ' })
  assertEnvelope(t, badEscape, 400)
  const headers = await call(ctx, { path: '/v1/files', headers: { 'x-big': 'h'.repeat(20_000) } })
  assertEnvelope(t, headers, 431)
})

t.test('numbers sent as strings are refused in JSON bodies; query strings are still coerced', async (t) => {
  const ctx = await startTestApp(t)
  const body = { model: 'skillet-tiny-llama', training_file: 'file-x', hyperparameters: { n_epochs: '3' } }
  const answer = await call(ctx, { method: 'POST', path: '/v1/fine_tuning/jobs', ...json(body) })
  assertEnvelope(t, answer, 400, 'hyperparameters.n_epochs')
  const seed = await call(ctx, { method: 'POST', path: '/v1/fine_tuning/jobs', ...json({ model: 'skillet-tiny-llama', training_file: 'file-x', seed: '42' }) })
  assertEnvelope(t, seed, 400, 'seed')
  const upload = await call(ctx, { method: 'POST', path: '/v1/uploads', ...json({ filename: 'a.jsonl', purpose: 'fine-tune', bytes: '10', mime_type: 'text/jsonl' }) })
  assertEnvelope(t, upload, 400, 'bytes')
  // The SDK sends pagination as query text: still a number to the route.
  const page = await ctx.client.fineTuning.jobs.list({ limit: 2 })
  t.same(page.data, [])
  const tooBig = await call(ctx, { path: '/v1/fine_tuning/jobs?limit=1000' })
  assertEnvelope(t, tooBig, 400, 'limit')
})

t.test('clear messages: __proto__ keys, JSON sent as text/plain', async (t) => {
  const ctx = await startTestApp(t)
  const proto = await call(ctx, { method: 'POST', path: '/v1/fine_tuning/jobs', headers: { 'content-type': 'application/json' }, body: '{"model":"m","training_file":"f","__proto__":{"x":1}}' })
  assertEnvelope(t, proto, 400)
  t.match(proto.body.error.message, /__proto__/)
  t.notMatch(proto.body.error.message, /not valid JSON/)
  const text = await call(ctx, { method: 'POST', path: '/v1/fine_tuning/jobs', headers: { 'content-type': 'text/plain' }, body: '{"model":"m","training_file":"f"}' })
  assertEnvelope(t, text, 415)
  t.match(text.body.error.message, /application\/json/)
})

// Cross-cutting HTTP behaviour: health, OpenAPI, request ids, rate limits, logs without secrets.
import fs from 'node:fs'
import { Writable } from 'node:stream'
import t from 'tap'
import pino from 'pino'
import { startTestApp, tmpDir } from '../helpers/test-app.ts'
import { assertSpec } from '../helpers/openai-spec.ts'
import { generateOpenApiDocument } from '../../src/openapi-document.ts'

t.test('healthz (and its alias /health) and readyz', async (t) => {
  const ctx = await startTestApp(t)
  const root = ctx.baseURL.replace(/\/v1$/, '')
  t.same(await (await fetch(`${root}/healthz`)).json(), { status: 'ok' })
  t.same(await (await fetch(`${root}/health`)).json(), { status: 'ok' }, '/health answers too, not 404')
  t.same(await (await fetch(`${root}/readyz`)).json(), { status: 'ok' })
})

t.test('readyz reports a blob store that is gone', async (t) => {
  const ctx = await startTestApp(t)
  const root = ctx.baseURL.replace(/\/v1$/, '')
  const { FsBlobStore } = await import('../../src/storage/fs-blob-store.ts')
  // A root under a regular file cannot be created: the store is unreachable.
  const notADir = `${await tmpDir(t)}/plain-file`
  fs.writeFileSync(notADir, 'x')
  ;(ctx.services as { blobs: unknown }).blobs = new FsBlobStore({ root: `${notADir}/blobs` })
  const res = await fetch(`${root}/readyz`)
  t.equal(res.status, 503)
  t.same(await res.json(), { status: 'unavailable', failing: ['blob_store'] })
})

t.test('the committed openapi/openapi.json is current, and served', async (t) => {
  const generated = await generateOpenApiDocument()
  const committed = JSON.parse(fs.readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'))
  t.same(committed, generated, 'openapi/openapi.json is stale: run `npm run openapi`')
  const ctx = await startTestApp(t)
  const root = ctx.baseURL.replace(/\/v1$/, '')
  const served = await (await fetch(`${root}/openapi.json`)).json()
  t.equal(served.openapi, '3.1.0')
  t.ok(served.paths['/v1/files'], 'files routes documented')
  const docs = await fetch(`${root}/docs/`)
  t.equal(docs.status, 200)
  t.match(await docs.text(), /swagger/i)
})

t.test('request ids: kept when sane, made otherwise', async (t) => {
  const ctx = await startTestApp(t)
  const auth = { authorization: `Bearer ${ctx.key}` }
  const kept = await fetch(`${ctx.baseURL}/files`, { headers: { ...auth, 'x-request-id': 'abc-123' } })
  t.equal(kept.headers.get('x-request-id'), 'abc-123')
  const made = await fetch(`${ctx.baseURL}/files`, { headers: { ...auth, 'x-request-id': 'bad id with spaces' } })
  t.match(made.headers.get('x-request-id'), /^req_[0-9a-f]{32}$/)
})

t.test('rate limit per key: 429 in the OpenAI envelope with retry-after', async (t) => {
  const ctx = await startTestApp(t, { env: { SKILLET_RATE_LIMIT_PER_MINUTE: '3' } })
  const other = await ctx.clientFor('beta')
  for (let i = 0; i < 3; i++) await ctx.client.files.list()
  const res = await fetch(`${ctx.baseURL}/files`, { headers: { authorization: `Bearer ${ctx.key}` } })
  t.equal(res.status, 429)
  t.ok(Number(res.headers.get('retry-after')) > 0, 'retry-after set')
  const body = await res.json()
  assertSpec(t, 'ErrorResponse', body)
  t.equal(body.error.code, 'rate_limit_exceeded')
  t.match(body.error.message, /^Rate limit reached: 3 requests per minute\. Please try again in \d+ (second|minute)s?\.$/, 'names the configured window')
  t.ok(await other.files.list(), 'another key is not limited')
})

t.test('logs carry the request id and never the API key', async (t) => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const { buildApp } = await import('../../src/app.ts')
  const ctx = await startTestApp(t)
  const logger = pino({ level: 'info' }, sink)
  const app = await buildApp({ services: ctx.services, logger })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/v1/files/file-nope', headers: { authorization: `Bearer ${ctx.key}`, 'x-request-id': 'trace-me' } })
  t.equal(res.statusCode, 404)
  const all = lines.join('')
  t.match(all, /"reqId":"trace-me"/)
  t.notMatch(all, new RegExp(ctx.key), 'the key never appears in logs')
  for (const line of lines) t.match(JSON.parse(line), { reqId: 'trace-me' }, 'every line of the request has its id')
})

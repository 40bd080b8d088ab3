// The dashboard as the API serves it: index.html never cached, hashed assets cached for a year, a
// Content-Security-Policy that allows no inline script, and nothing at `/` with SKILLET_UI=false.
import t from 'tap'
import { loadConfig } from '../../src/config/index.ts'
import { ensureUiBundle } from '../../src/ui/build/ui-bundle.ts'
import { startTestApp } from '../helpers/test-app.ts'
import { startServerProcess } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'

const ui = await ensureUiBundle()
await ui.ready

t.test('index.html, assets and their headers', async (t) => {
  const { app } = await startTestApp(t, { ui })
  const index = await app.inject({ method: 'GET', url: '/' })
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /^text\/html/)
  t.equal(index.headers['cache-control'], 'no-cache', 'index.html is revalidated every time: it names the current assets')
  const csp = String(index.headers['content-security-policy'])
  t.match(csp, /script-src 'self'(;|$)/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline or eval script allowed')
  t.match(csp, /frame-ancestors 'none'/)
  t.notMatch(index.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page')
  const assets = [...index.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])
  t.ok(assets.some((a) => /\/assets\/index-[\w-]{8,}\.js$/.test(a)), `a hashed script: ${assets.join(', ')}`)
  for (const asset of assets) {
    const res = await app.inject({ method: 'GET', url: asset })
    t.equal(res.statusCode, 200, asset)
    t.match(res.headers['cache-control'], /max-age=31536000/, `${asset} cached for a year`)
    t.match(res.headers['cache-control'], /immutable/)
  }
  const missing = await app.inject({ method: 'GET', url: '/assets/nope-12345678.js' })
  t.equal(missing.statusCode, 404)
  const traversal = await app.inject({ method: 'GET', url: '/assets/..%2F..%2Fpackage.json' })
  t.equal(traversal.statusCode, 404, 'nothing outside the bundle')
  t.equal((await app.inject({ method: 'GET', url: '/v1/models' })).statusCode, 401, 'the API is unchanged beside it')
})

t.test('the bundle is named by a hash of its sources, and reused', async (t) => {
  const again = await ensureUiBundle()
  t.equal(again.dir, ui.dir)
  t.equal(again.isReady(), true, 'already built: ready at once')
})

t.test('SKILLET_UI=false: no dashboard', async (t) => {
  t.equal(loadConfig({ SKILLET_UI: 'false' }).ui, false)
  t.equal(loadConfig({}).ui, true)
  const server = await startServerProcess({ SKILLET_DATA_DIR: await tmpDir(t), SKILLET_UI: 'false', SKILLET_METRICS_PORT: '0' })
  t.teardown(() => server.stop())
  const res = await fetch(`${server.baseURL}/`)
  t.equal(res.status, 404)
  t.match(await res.json(), { error: { message: 'Invalid URL (GET /)' } })
})

// Start-up loads only what the configuration uses: a server process records every module it loads
// (test/helpers/record-imports.ts) and the list is checked for the heavy libraries that belong to
// other back ends or to later work — the AWS SDK (S3 only), the Kubernetes client (kubernetes
// executor only), the other database driver, the trainer's TensorFlow.js stack (never in the API),
// node-llama-cpp (first inference) and the openai SDK (first model grader). Measured with
// `npm run bench:rss` and bench:demo's start-up profile: together they are hundreds of MB of RSS and
// seconds of CPU at start. A restart on Postgres also leaves out the demo model's generator (needed
// only when the model is missing) and TypeBox's value checker and compiler (first grader checked,
// Kubernetes executor config).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { startServerProcess } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { createTestPostgresDatabase, testDriver } from '../helpers/test-database.ts'

const RECORDER = fileURLToPath(new URL('../helpers/record-imports.ts', import.meta.url))

/** Packages (node_modules/<name>/) no API process loads at start, whatever its database. */
const NEVER_AT_START = ['@aws-sdk', '@smithy', '@kubernetes/client-node', '@tensorflow', 'webgpu', 'node-llama-cpp', '@node-llama-cpp', 'openai']

/** The demo model's generator, loaded only when a start has to generate the model. */
const DEMO_GENERATOR = '/src/trainer/tiny/make-tiny-model.ts'

/** TypeBox's value checker and compiler: loaded on the first grader checked or Kubernetes executor config read. */
const TYPEBOX_CHECKERS = ['/node_modules/typebox/build/value/', '/node_modules/typebox/build/compile/']

const packagesIn = (urls: string[], names: string[]) => urls.filter((u) => names.some((n) => u.includes(`/node_modules/${n}/`)))

/** The modules a server process loads up to its first API request; `dataDir` to restart on one already used. */
async function importsAtStart(t: Test, env: Record<string, string>, dataDir?: string): Promise<string[]> {
  const dir = await tmpDir(t)
  const importsFile = path.join(dir, 'imports.txt')
  const server = await startServerProcess({
    SKILLET_DATA_DIR: dataDir ?? path.join(dir, 'data'),
    SKILLET_API_KEY: 'sk-test-startup-imports-0123456789',
    SKILLET_METRICS_PORT: '0',
    NODE_OPTIONS: `--import=${RECORDER}`,
    SKILLET_TEST_IMPORTS_FILE: importsFile,
    ...env,
  })
  t.equal((await fetch(`${server.baseURL}/readyz`)).status, 200, 'ready: the database and blob store answer')
  const jobs = await fetch(`${server.baseURL}/v1/fine_tuning/jobs`, { headers: { authorization: 'Bearer sk-test-startup-imports-0123456789' } })
  t.equal(jobs.status, 200, 'an API request is served')
  await server.stop()
  return fs.readFileSync(importsFile, 'utf8').trim().split('\n')
}

t.test('a server on embedded defaults loads PGlite but no other back end, no trainer, no inference engine', async (t) => {
  const urls = await importsAtStart(t, {})
  t.ok(urls.some((u) => u.includes('/node_modules/@electric-sql/pglite/')), `the recorder sees the process's imports (${urls.length} modules)`)
  t.ok(urls.some((u) => u.includes('/node_modules/drizzle-orm/pg-core/')), "the recorder sees modules inside a package (drizzle-orm's relative imports)")
  t.same(packagesIn(urls, NEVER_AT_START), [], 'none of: ' + NEVER_AT_START.join(', '))
  t.same(packagesIn(urls, ['pg', 'pg-pool']), [], 'not the Postgres driver')
})

t.test('a server with DATABASE_URL does not load PGlite; a restart, not the demo model generator nor TypeBox checkers', { skip: testDriver() === 'pg' ? false : 'needs SKILLET_TEST_DB=postgres and DATABASE_URL' }, async (t) => {
  const url = await createTestPostgresDatabase(t)
  const dataDir = path.join(await tmpDir(t), 'data')
  const first = await importsAtStart(t, { DATABASE_URL: url }, dataDir)
  t.ok(first.some((u) => u.endsWith(DEMO_GENERATOR)), 'a first start generates the demo model (and loads its generator)')
  // A restart, as a server runs most of its life: the demo model is there already.
  const urls = await importsAtStart(t, { DATABASE_URL: url }, dataDir)
  t.ok(urls.some((u) => u.includes('/node_modules/pg/')), `the Postgres driver is loaded (${urls.length} modules)`)
  t.same(packagesIn(urls, ['@electric-sql/pglite', ...NEVER_AT_START]), [], 'none of: @electric-sql/pglite, ' + NEVER_AT_START.join(', '))
  t.same(urls.filter((u) => u.endsWith(DEMO_GENERATOR)), [], "a restart does not load the demo model's generator")
  t.same(urls.filter((u) => TYPEBOX_CHECKERS.some((dir) => u.includes(dir))), [], "nor TypeBox's value checker and compiler")
})

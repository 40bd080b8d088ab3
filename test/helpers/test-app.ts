// A real Skillet API for tests: its own database, a real blob store (filesystem, or S3 through the
// in-process emulator), listening on a loopback port so the official openai SDK talks to it over HTTP.
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import type { Test } from 'tap'
import { buildApp, type App } from '../../src/app.ts'
import { loadConfig, type Config } from '../../src/config/index.ts'
import type { Database } from '../../src/db/database.ts'
import { createAppServices, type AppServices } from '../../src/services/app-services.ts'
import { createApiKey } from '../../src/services/projects.ts'
import { randomBase62 } from '../../src/lib/ids.ts'
import { createLogger } from '../../src/lib/logger.ts'
import { createBlobStore } from '../../src/storage/index.ts'
import type { BlobStore } from '../../src/storage/blob-store.ts'
import type { SkilletMetrics } from '../../src/metrics/skillet-metrics.ts'
import type { UiBundle } from '../../src/ui/build/ui-bundle.ts'
import { emulatorStoreOptions, startS3Emulator } from './s3-emulator.ts'
import { sharedTestDatabase } from './test-database.ts'

export interface TestApp {
  app: App
  baseURL: string
  /** Admin key of a fresh project "alpha-…". */
  key: string
  client: OpenAI
  services: AppServices
  database: Database
  blobs: BlobStore
  config: Config
  /** A client for another project: tenancy tests. */
  clientFor(project: string): Promise<OpenAI>
}

export interface TestAppOptions {
  blobStore?: 'fs' | 's3'
  env?: Record<string, string>
  /** Request metrics (and GET /metrics with SKILLET_METRICS_TOKEN), as server.ts wires them. */
  metrics?: SkilletMetrics
  /** The web dashboard's bundle, served at `/` as server.ts does. */
  ui?: UiBundle
}

export async function tmpDir(t: Test, prefix = 'skillet-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

export async function startTestApp(t: Test, opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = await tmpDir(t)
  const config = loadConfig({ SKILLET_DATA_DIR: dataDir, SKILLET_LOG_LEVEL: 'silent', ...opts.env })
  const database = await sharedTestDatabase()
  let blobs: BlobStore
  if (opts.blobStore === 's3') {
    const s3 = await startS3Emulator()
    t.teardown(() => s3.stop())
    blobs = createBlobStore({ kind: 's3', ...emulatorStoreOptions(s3.endpoint, s3.bucket) })
  } else {
    blobs = createBlobStore({ kind: 'fs', root: path.join(dataDir, 'blobs') })
  }
  const logger = createLogger(process.env.SKILLET_TEST_LOG ?? 'silent')
  const services = createAppServices({ config, database, blobs, log: logger })
  const app = await buildApp({ services, logger, metrics: opts.metrics, ui: opts.ui })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
    await services.tasks.drain()
  })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  const baseURL = `http://127.0.0.1:${address.port}/v1`
  const makeClient = (apiKey: string) => new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 60_000 })
  // A fresh project per app: apps in one test file share the database and must not see each other.
  const suffix = randomBase62(8)
  const { key } = await createApiKey(database.db, { project: `alpha-${suffix}`, isAdmin: true })
  return {
    app,
    baseURL,
    key,
    client: makeClient(key),
    services,
    database,
    blobs,
    config,
    async clientFor(project: string) {
      const created = await createApiKey(database.db, { project: `${project}-${suffix}` })
      return makeClient(created.key)
    },
  }
}

// The OpenAPI document, generated from the route schemas by @fastify/swagger. Committed as
// openapi/openapi.json (`npm run openapi`); a test fails when the committed copy is stale.
import pino from 'pino'
import { buildApp } from './app.ts'
import { loadConfig } from './config/index.ts'
import { openDatabase } from './db/database.ts'
import { createAppServices } from './services/app-services.ts'
import { createBlobStore } from './storage/index.ts'
import os from 'node:os'

export async function generateOpenApiDocument(): Promise<unknown> {
  const config = loadConfig({})
  const log = pino({ level: 'silent' })
  // Nothing is opened for real: the document only needs the routes.
  const database = await openDatabase({ driver: 'pg', url: 'postgres://unused@127.0.0.1:1/unused' })
  const services = createAppServices({ config, database, blobs: createBlobStore({ kind: 'fs', root: os.tmpdir() }), log })
  const app = await buildApp({ services, logger: log })
  await app.ready()
  const doc = app.swagger()
  await app.close()
  await database.close()
  return doc
}

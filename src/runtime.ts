// Opens what the service runs on (database, blob store) from the configuration: embedded defaults
// (PGlite + local files under the data dir) or production ones (Postgres + S3).
import type { Logger } from 'pino'
import type { Config } from './config/index.ts'
import { openDatabase, type Database } from './db/database.ts'
import { DataDirLockError } from './db/data-dir-lock.ts'
import { blobStoreConfigFor, createBlobStore } from './storage/index.ts'
import type { BlobStore } from './storage/blob-store.ts'

export interface Runtime {
  database: Database
  blobs: BlobStore
  close(): Promise<void>
}

export async function openRuntime(config: Config, log: Logger): Promise<Runtime> {
  const database = await openDatabase(
    config.databaseUrl ? { driver: 'pg', url: config.databaseUrl } : { driver: 'pglite', dataDir: config.dataDir },
  )
  await database.migrate()
  const blobs = createBlobStore(blobStoreConfigFor(config))
  log.info(
    { database: database.driver, blobStore: blobs.kind, dataDir: database.driver === 'pglite' || blobs.kind === 'fs' ? config.dataDir : undefined },
    'runtime opened',
  )
  return { database, blobs, close: () => database.close() }
}

/** openRuntime for an entry point: a data-dir lock problem is one line on stderr and exit 1, not a stack trace. */
export async function openRuntimeOrExit(config: Config, log: Logger, name: string): Promise<Runtime> {
  try {
    return await openRuntime(config, log)
  } catch (err) {
    if (!(err instanceof DataDirLockError)) throw err
    process.stderr.write(`${name}: ${err.message}\n`)
    process.exit(1)
  }
}

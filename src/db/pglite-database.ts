// The `pglite` driver of src/db/database.ts: embedded Postgres in WebAssembly, persisted under the
// data dir (held by its lock) or in memory.
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import * as schema from './schema/index.ts'
import { acquireDataDirLock } from './data-dir-lock.ts'
import type { Database, Db } from './database.ts'
import { MIGRATIONS_DIR } from './migrations-dir.ts'

export async function openPglite(dataDir: string | undefined): Promise<Database> {
  let releaseLock = async () => {}
  let client: PGlite
  if (dataDir) {
    // PGlite is one connection in one process: two processes on one data dir would corrupt it.
    releaseLock = await acquireDataDirLock(dataDir)
    try {
      client = new PGlite(path.join(dataDir, 'pglite'))
      await client.waitReady
    } catch (err) {
      await releaseLock()
      throw err
    }
  } else {
    client = new PGlite()
    await client.waitReady
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db
  return {
    driver: 'pglite',
    db,
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR }),
    ping: async () => {
      await client.query('select 1')
    },
    close: async () => {
      await client.close()
      await releaseLock()
    },
  }
}

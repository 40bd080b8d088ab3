// One database interface, two drivers: `pg` against a real Postgres when DATABASE_URL is set,
// PGlite (embedded Postgres in WebAssembly, persisted under the data dir) otherwise.
// The same drizzle schema and SQL migrations run on both.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import pg from 'pg'
import * as schema from './schema/index.ts'
import { acquireDataDirLock } from './data-dir-lock.ts'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  readonly driver: 'pg' | 'pglite'
  readonly db: Db
  /** Applies pending migrations from migrations/. */
  migrate(): Promise<void>
  /** Health check for /readyz. */
  ping(): Promise<void>
  close(): Promise<void>
}

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations')

export type DatabaseOptions =
  | { driver: 'pg'; url: string; poolSize?: number }
  /** dataDir undefined: in memory (tests). */
  | { driver: 'pglite'; dataDir?: string }

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.driver === 'pg' ? openPostgres(opts.url, opts.poolSize ?? 10) : openPglite(opts.dataDir)
}

function openPostgres(url: string, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize })
  // An idle client that loses its connection emits 'error'; without a listener the process dies.
  pool.on('error', () => {})
  const db = drizzlePg(pool, { schema }) as unknown as Db
  return {
    driver: 'pg',
    db,
    migrate: () => migratePg(drizzlePg(pool), { migrationsFolder: MIGRATIONS_DIR }),
    ping: async () => {
      await pool.query('select 1')
    },
    close: () => pool.end(),
  }
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
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

// One database interface, two drivers: `pg` against a real Postgres when DATABASE_URL is set,
// PGlite (embedded Postgres in WebAssembly, persisted under the data dir) otherwise.
// The same drizzle schema and SQL migrations run on both. Only the chosen driver is loaded (PGlite
// alone is about 300 MB of WebAssembly memory once open; a Postgres server never loads it).
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type * as schema from './schema/index.ts'

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

export type DatabaseOptions =
  | { driver: 'pg'; url: string; poolSize?: number }
  /** dataDir undefined: in memory (tests). */
  | { driver: 'pglite'; dataDir?: string }

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.driver === 'pg') return (await import('./postgres-database.ts')).openPostgres(opts.url, opts.poolSize ?? 10)
  return (await import('./pglite-database.ts')).openPglite(opts.dataDir)
}


// The `pg` driver of src/db/database.ts: a connection pool to a real Postgres (DATABASE_URL).
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator'
import pg from 'pg'
import * as schema from './schema/index.ts'
import type { Database, Db } from './database.ts'
import { MIGRATIONS_DIR } from './migrations-dir.ts'

export function openPostgres(url: string, poolSize: number): Database {
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

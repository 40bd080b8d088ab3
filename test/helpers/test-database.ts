// Each test file gets its own database: an in-memory PGlite, or — when SKILLET_TEST_DB=postgres —
// a fresh database created on the Postgres server at DATABASE_URL and dropped afterwards.
import pg from 'pg'
import tap, { type Test } from 'tap'
import { openDatabase, type Database } from '../../src/db/database.ts'
import { randomBase62 } from '../../src/lib/ids.ts'

export type TestDriver = 'pglite' | 'pg'

export function testDriver(): TestDriver {
  return process.env.SKILLET_TEST_DB === 'postgres' ? 'pg' : 'pglite'
}

let shared: Promise<Database> | undefined

/**
 * The test file's database, opened on first use and closed when the file's tests end. Tests in one
 * file share it and keep apart by using their own projects (startTestApp makes a fresh one each time).
 */
export function sharedTestDatabase(): Promise<Database> {
  shared ??= openTestDatabase(tap)
  return shared
}

/** A fresh database on the Postgres server at DATABASE_URL, dropped when `t` ends; its URL. */
export async function createTestPostgresDatabase(t: Test): Promise<string> {
  const adminUrl = process.env.DATABASE_URL
  if (!adminUrl) throw new Error('SKILLET_TEST_DB=postgres needs DATABASE_URL')
  const name = `skillet_test_${randomBase62(12).toLowerCase()}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  t.teardown(async () => {
    const a = new pg.Client({ connectionString: adminUrl })
    await a.connect()
    await a.query(`drop database if exists ${name} with (force)`)
    await a.end()
  })
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

export async function openTestDatabase(t: Test): Promise<Database> {
  let database: Database
  if (testDriver() === 'pg') {
    const url = await createTestPostgresDatabase(t)
    database = await openDatabase({ driver: 'pg', url, poolSize: 20 })
    // Teardowns run last-in-first-out: the pool is closed before the database is dropped.
    t.teardown(() => database.close())
  } else {
    database = await openDatabase({ driver: 'pglite' })
    t.teardown(() => database.close())
  }
  await database.migrate()
  return database
}

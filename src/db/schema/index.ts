// The database schema, one file per area. drizzle-kit generates the SQL migrations in migrations/
// from these exports (`npm run db:generate`).
export * from './core.ts'
export * from './jobs.ts'
export * from './webhooks.ts'

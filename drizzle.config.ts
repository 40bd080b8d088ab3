import { defineConfig } from 'drizzle-kit'

// `npm run db:generate` writes a new SQL migration to migrations/ from src/db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
})

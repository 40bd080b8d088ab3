// Core tables: projects, keys, files, uploads. drizzle-kit generates the SQL migrations in migrations/ from this file
// (`npm run db:generate`). Timestamps are unix seconds, as on the wire. Nothing newer than
// Postgres 15 is used, so the same migrations run on PGlite and on a production Postgres.
import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'

const unixSeconds = (name: string) => bigint(name, { mode: 'number' })

export const projects = pgTable('projects', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: unixSeconds('created_at').notNull(),
})

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** SHA-256 of the key, hex. The key itself is never stored. */
    keyHash: text('key_hash').notNull(),
    /** The last four characters, to tell keys apart in listings. */
    keyHint: text('key_hint').notNull(),
    isAdmin: boolean('is_admin').notNull().default(false),
    createdAt: unixSeconds('created_at').notNull(),
    revokedAt: unixSeconds('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_key_hash_idx').on(t.keyHash)],
)

export const files = pgTable(
  'files',
  {
    id: text('id').primaryKey(),
    /** Insertion order, for stable cursor pagination. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    purpose: text('purpose').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    /** uploaded → processed | error (validation of fine-tune files). */
    status: text('status').notNull(),
    statusDetails: text('status_details'),
    blobKey: text('blob_key').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
    expiresAt: unixSeconds('expires_at'),
    /** What validation found: format, example count and statistics (fine-tune files only). */
    dataset: jsonb('dataset'),
  },
  (t) => [index('files_project_seq_idx').on(t.projectId, t.seq), index('files_expires_at_idx').on(t.expiresAt).where(sql`expires_at is not null`)],
)

export const uploads = pgTable(
  'uploads',
  {
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    filename: text('filename').notNull(),
    purpose: text('purpose').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    mimeType: text('mime_type').notNull(),
    /** pending → completed | cancelled | expired */
    status: text('status').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
    expiresAt: unixSeconds('expires_at').notNull(),
    fileId: text('file_id'),
    /** expires_after.seconds for the File this Upload becomes, if any. */
    fileExpiresAfter: integer('file_expires_after'),
  },
  (t) => [index('uploads_status_expires_idx').on(t.status, t.expiresAt)],
)

export const uploadParts = pgTable(
  'upload_parts',
  {
    id: text('id').primaryKey(),
    uploadId: text('upload_id')
      .notNull()
      .references(() => uploads.id, { onDelete: 'cascade' }),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    blobKey: text('blob_key').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [index('upload_parts_upload_idx').on(t.uploadId)],
)

/** Blobs to delete once nothing references them (deleted files, cancelled uploads); swept in the background. */
export const blobGarbage = pgTable('blob_garbage', {
  blobKey: text('blob_key').primaryKey(),
  createdAt: unixSeconds('created_at').notNull(),
})


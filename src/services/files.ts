// Files: stored in the blob store, described in the database, always scoped to a project.
import type { Readable } from 'node:stream'
import { and, asc, desc, eq, gt, isNull, lt, notInArray, or, sql } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { blobGarbage, files, fineTuningJobs } from '../db/schema/index.ts'
import { TERMINAL_STATUSES } from '../jobs/state-machine.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { newId, unixNow } from '../lib/ids.ts'
import { streamIntoBlob } from './stream-into-blob.ts'
import { fileBlobKey } from '../files/blob-key.ts'
import { invalidRequest, notFound } from '../lib/errors.ts'
import type { OpenAIFile } from '../schemas/files.ts'

export type FileRow = typeof files.$inferSelect

export interface FilesDeps {
  db: Db
  blobs: BlobStore
}

/** The wire shape: `expires_at` and `status_details` are omitted when there is none. */
export function toOpenAIFile(row: FileRow): OpenAIFile {
  const out: OpenAIFile = {
    id: row.id,
    object: 'file',
    bytes: row.bytes,
    created_at: row.createdAt,
    filename: row.filename,
    purpose: row.purpose,
    status: row.status as OpenAIFile['status'],
  }
  if (row.expiresAt !== null) out.expires_at = row.expiresAt
  if (row.statusDetails !== null) out.status_details = row.statusDetails
  const dataset = row.dataset as { format: string | null; examples: number; stats?: { estimatedTokens?: number } } | null
  if (dataset && typeof dataset.examples === 'number') {
    out.dataset = { format: dataset.format ?? null, examples: dataset.examples, estimated_tokens: dataset.stats?.estimatedTokens ?? 0 }
  }
  return out
}

/** Not expired: expired files disappear at once, before the sweeper deletes their blobs. */
const live = (now: number) => or(isNull(files.expiresAt), gt(files.expiresAt, now))

/** Streams a new file's bytes into the blob store; past `maxBytes`: 413 and nothing stored. */
export async function storeFileBytes(
  deps: FilesDeps,
  projectId: string,
  source: Readable,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<{ fileId: string; blobKey: string; bytes: number }> {
  const fileId = newId.file()
  const blobKey = fileBlobKey(projectId, fileId)
  const info = await streamIntoBlob(deps.blobs, blobKey, source, { maxBytes, param: 'file', what: 'File' }, signal)
  return { fileId, blobKey, bytes: info.bytes }
}

export async function insertFile(
  deps: FilesDeps,
  row: { id: string; projectId: string; filename: string; purpose: string; bytes: number; blobKey: string; expiresAt: number | null; status: 'uploaded' | 'processed' },
): Promise<FileRow> {
  const [saved] = await deps.db
    .insert(files)
    .values({ ...row, createdAt: unixNow() })
    .returning()
  return saved
}

export async function getFile(deps: FilesDeps, projectId: string, fileId: string): Promise<FileRow> {
  const [row] = await deps.db
    .select()
    .from(files)
    .where(and(eq(files.id, fileId), eq(files.projectId, projectId), live(unixNow())))
  if (!row) throw notFound('File', fileId, 'file_id')
  return row
}

export async function listFiles(
  deps: FilesDeps,
  projectId: string,
  q: { purpose?: string; limit: number; order: 'asc' | 'desc'; after?: string },
): Promise<{ data: FileRow[]; hasMore: boolean }> {
  const now = unixNow()
  const conditions = [eq(files.projectId, projectId), live(now)]
  if (q.purpose) conditions.push(eq(files.purpose, q.purpose))
  if (q.after) {
    const [cursor] = await deps.db
      .select({ seq: files.seq })
      .from(files)
      .where(and(eq(files.id, q.after), eq(files.projectId, projectId)))
    if (!cursor) throw invalidRequest(`No such File object: ${q.after} (used as the 'after' cursor).`, 'after')
    conditions.push(q.order === 'desc' ? lt(files.seq, cursor.seq) : gt(files.seq, cursor.seq))
  }
  const rows = await deps.db
    .select()
    .from(files)
    .where(and(...conditions))
    .orderBy(q.order === 'desc' ? desc(files.seq) : asc(files.seq))
    .limit(q.limit + 1)
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit }
}

export async function openFileContent(deps: FilesDeps, projectId: string, fileId: string): Promise<{ row: FileRow; body: Readable }> {
  const row = await getFile(deps, projectId, fileId)
  return { row, body: await deps.blobs.get(row.blobKey) }
}

/** Deletes the record at once; the blob follows (or is queued for the sweeper if the store is down). */
export async function deleteFile(deps: FilesDeps, projectId: string, fileId: string): Promise<void> {
  const row = await getFile(deps, projectId, fileId)
  await deps.db.transaction(async (tx) => {
    // A job still to run (or running) reads the file: refuse, rather than fail the job later.
    const [user] = await tx
      .select({ id: fineTuningJobs.id, status: fineTuningJobs.status })
      .from(fineTuningJobs)
      .where(and(eq(fineTuningJobs.projectId, projectId), or(eq(fineTuningJobs.trainingFile, row.id), eq(fineTuningJobs.validationFile, row.id),
        // The forgetting_file extension, in the method as requested.
        sql`${fineTuningJobs.method} #>> '{supervised,hyperparameters,forgetting_file}' = ${row.id}`, sql`${fineTuningJobs.method} #>> '{dpo,hyperparameters,forgetting_file}' = ${row.id}`),
        notInArray(fineTuningJobs.status, [...TERMINAL_STATUSES])))
      .limit(1)
      .for('share')
    if (user) throw invalidRequest(`File ${row.id} is used by fine-tuning job ${user.id} (${user.status}); delete it once the job has finished, or cancel the job first.`, 'file_id', 'file_in_use')
    await tx.delete(files).where(eq(files.id, row.id))
    await tx.insert(blobGarbage).values({ blobKey: row.blobKey, createdAt: unixNow() }).onConflictDoNothing()
  })
  await collectGarbage(deps, [row.blobKey])
}

/** Deletes queued blobs (all, or the given keys) and forgets those that are gone. */
export async function collectGarbage(deps: FilesDeps, keys?: string[]): Promise<number> {
  const rows = keys
    ? keys.map((blobKey) => ({ blobKey }))
    : await deps.db.select({ blobKey: blobGarbage.blobKey }).from(blobGarbage).limit(1000)
  let deleted = 0
  for (const { blobKey } of rows) {
    try {
      await deps.blobs.delete(blobKey)
      await deps.db.delete(blobGarbage).where(eq(blobGarbage.blobKey, blobKey))
      deleted++
    } catch {
      // stays queued; the next sweep retries
    }
  }
  return deleted
}

/** Moves expired files to the garbage queue. */
export async function expireFiles(deps: FilesDeps): Promise<number> {
  const now = unixNow()
  return deps.db.transaction(async (tx) => {
    const gone = await tx
      .delete(files)
      .where(and(sql`${files.expiresAt} is not null`, lt(files.expiresAt, now + 1)))
      .returning({ blobKey: files.blobKey })
    if (gone.length > 0) {
      await tx
        .insert(blobGarbage)
        .values(gone.map((g) => ({ blobKey: g.blobKey, createdAt: now })))
        .onConflictDoNothing()
    }
    return gone.length
  })
}

export async function queueGarbage(deps: FilesDeps, blobKey: string): Promise<void> {
  await deps.db.insert(blobGarbage).values({ blobKey, createdAt: unixNow() }).onConflictDoNothing()
}

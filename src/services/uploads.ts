// Uploads: a large file sent in parts (up to 8 GB), assembled into a File on completion.
// Each part is stored as its own blob; completion composes them, in the order the client gives,
// into the file's blob (server-side on S3 where part sizes allow), then records the File.
import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { and, eq, lt, sql } from 'drizzle-orm'
import { uploadParts, uploads } from '../db/schema/index.ts'
import { ApiError, invalidRequest, notFound } from '../lib/errors.ts'
import { newId, unixNow } from '../lib/ids.ts'
import type { OpenAIFile } from '../schemas/files.ts'
import { queueGarbage, toOpenAIFile, type FileRow, type FilesDeps } from './files.ts'
import { fileBlobKey } from '../files/blob-key.ts'
import { streamIntoBlob } from './stream-into-blob.ts'

export type UploadRow = typeof uploads.$inferSelect

export interface UploadsDeps extends FilesDeps {
  maxUploadBytes: number
  maxPartBytes: number
  ttlSeconds: number
  /** Records the assembled File (and starts its validation). */
  createFileRecord(row: { id: string; projectId: string; filename: string; purpose: string; bytes: number; blobKey: string; expiresAt: number | null }): Promise<FileRow>
}

/** MIME types accepted for fine-tune data (OpenAI asks for text/jsonl). */
const JSONL_MIME_TYPES = ['text/jsonl', 'application/jsonl', 'application/x-ndjson', 'application/jsonlines', 'application/json', 'text/plain']

export function toUpload(row: UploadRow, file: FileRow | null) {
  return {
    id: row.id,
    object: 'upload' as const,
    bytes: row.bytes,
    created_at: row.createdAt,
    filename: row.filename,
    purpose: row.purpose,
    status: row.status as 'pending' | 'completed' | 'cancelled' | 'expired',
    expires_at: row.expiresAt,
    file: file ? (toOpenAIFile(file) satisfies OpenAIFile) : null,
  }
}

export async function createUpload(
  deps: UploadsDeps,
  projectId: string,
  req: { filename: string; purpose: string; bytes: number; mime_type: string; expires_after?: { seconds: number } },
): Promise<UploadRow> {
  if (req.bytes > deps.maxUploadBytes) {
    throw invalidRequest(`Invalid value for 'bytes': an Upload can hold at most ${deps.maxUploadBytes} bytes.`, 'bytes')
  }
  const mime = req.mime_type.split(';')[0].trim().toLowerCase()
  if (req.purpose === 'fine-tune' && !JSONL_MIME_TYPES.includes(mime)) {
    throw invalidRequest(`Invalid value for 'mime_type': '${req.mime_type}' does not fit purpose 'fine-tune'; use text/jsonl.`, 'mime_type')
  }
  const now = unixNow()
  const [row] = await deps.db
    .insert(uploads)
    .values({
      id: newId.upload(),
      projectId,
      filename: req.filename,
      purpose: req.purpose,
      bytes: req.bytes,
      mimeType: req.mime_type,
      status: 'pending',
      createdAt: now,
      expiresAt: now + deps.ttlSeconds,
      fileExpiresAfter: req.expires_after?.seconds ?? null,
    })
    .returning()
  return row
}

async function getUpload(deps: FilesDeps, projectId: string, uploadId: string): Promise<UploadRow> {
  const [row] = await deps.db
    .select()
    .from(uploads)
    .where(and(eq(uploads.id, uploadId), eq(uploads.projectId, projectId)))
  if (!row) throw notFound('Upload', uploadId, 'upload_id')
  return row
}

function assertPending(row: UploadRow): void {
  const status = row.status === 'pending' && row.expiresAt <= unixNow() ? 'expired' : row.status
  if (status !== 'pending') throw invalidRequest(`Upload ${row.id} is ${status}; only a pending Upload can take this action.`, 'upload_id')
}

/** Bytes the Upload's parts hold so far. */
async function partBytes(db: FilesDeps['db'], uploadId: string): Promise<number> {
  const [row] = await db.select({ total: sql<string | null>`sum(${uploadParts.bytes})` }).from(uploadParts).where(eq(uploadParts.uploadId, uploadId))
  return Number(row?.total ?? 0)
}

function beyondDeclared(upload: UploadRow, held: number): ApiError {
  return invalidRequest(
    `This part would take Upload ${upload.id} past the ${upload.bytes} bytes it was created with (its parts hold ${held} bytes already).`,
    'data',
    'upload_bytes_exceeded',
  )
}

export async function addPart(deps: UploadsDeps, projectId: string, uploadId: string, data: Readable, signal?: AbortSignal) {
  const upload = await getUpload(deps, projectId, uploadId)
  assertPending(upload)
  // A part may bring the Upload up to its declared bytes, never past them.
  const held = await partBytes(deps.db, uploadId)
  const room = upload.bytes - held
  if (room <= 0) {
    data.resume()
    throw beyondDeclared(upload, held)
  }
  const partId = newId.part()
  const blobKey = `uploads/${uploadId}/${partId}`
  const maxBytes = Math.min(deps.maxPartBytes, room)
  const stored = await streamIntoBlob(deps.blobs, blobKey, data, { maxBytes, param: 'data', what: 'Part' }, signal).catch((err) => {
    if (err instanceof ApiError && err.status === 413 && maxBytes < deps.maxPartBytes) throw beyondDeclared(upload, held)
    throw err
  })
  const now = unixNow()
  try {
    // The upload may have been cancelled or completed, or other parts added, while the part streamed in.
    await deps.db.transaction(async (tx) => {
      const [locked] = await tx.select().from(uploads).where(eq(uploads.id, uploadId)).for('update')
      assertPending(locked)
      const heldNow = await partBytes(tx, uploadId)
      if (heldNow + stored.bytes > locked.bytes) throw beyondDeclared(locked, heldNow)
      await tx.insert(uploadParts).values({ id: partId, uploadId, bytes: stored.bytes, blobKey, createdAt: now })
    })
  } catch (err) {
    await deps.blobs.delete(blobKey).catch(() => queueGarbage(deps, blobKey))
    throw err
  }
  return { id: partId, object: 'upload.part' as const, created_at: now, upload_id: uploadId }
}

export async function completeUpload(deps: UploadsDeps, projectId: string, uploadId: string, req: { part_ids: string[]; md5?: string }) {
  const upload = await getUpload(deps, projectId, uploadId)
  assertPending(upload)
  if (new Set(req.part_ids).size !== req.part_ids.length) throw invalidRequest("Invalid value for 'part_ids': a part is listed twice.", 'part_ids')
  const [{ count }] = await deps.db.select({ count: sql<number>`count(*)::int` }).from(uploadParts).where(eq(uploadParts.uploadId, uploadId))
  if (req.part_ids.length > count) {
    throw invalidRequest(`Invalid value for 'part_ids': ${req.part_ids.length} part ids given, but Upload ${uploadId} has ${count} part${count === 1 ? '' : 's'}.`, 'part_ids')
  }
  // One array parameter, however many parts: a list of parameters would hit Postgres' limit of 65,535.
  const parts = await deps.db
    .select()
    .from(uploadParts)
    .where(and(eq(uploadParts.uploadId, uploadId), sql`${uploadParts.id} = any(${sql.param(req.part_ids)}::text[])`))
  const byId = new Map(parts.map((p) => [p.id, p]))
  const missing = req.part_ids.find((id) => !byId.has(id))
  if (missing) throw invalidRequest(`Invalid value for 'part_ids': no part ${missing} in Upload ${uploadId}.`, 'part_ids')
  const ordered = req.part_ids.map((id) => byId.get(id)!)
  const total = ordered.reduce((sum, p) => sum + p.bytes, 0)
  if (total !== upload.bytes) {
    throw invalidRequest(`The parts add up to ${total} bytes, but the Upload was created with bytes=${upload.bytes}.`, 'part_ids')
  }

  const fileId = newId.file()
  const blobKey = fileBlobKey(projectId, fileId)
  await deps.blobs.compose(blobKey, ordered.map((p) => p.blobKey))
  let file: FileRow
  try {
    if (req.md5) {
      const actual = await md5Of(await deps.blobs.get(blobKey))
      if (actual !== req.md5.toLowerCase()) throw invalidRequest(`The md5 of the assembled file is ${actual}, not ${req.md5}.`, 'md5')
    }
    const claimed = await deps.db
      .update(uploads)
      .set({ status: 'completed', fileId })
      .where(and(eq(uploads.id, uploadId), eq(uploads.status, 'pending')))
      .returning({ id: uploads.id })
    if (claimed.length === 0) throw invalidRequest(`Upload ${uploadId} is no longer pending.`, 'upload_id')
    file = await deps.createFileRecord({
      id: fileId,
      projectId,
      filename: upload.filename,
      purpose: upload.purpose,
      bytes: total,
      blobKey,
      expiresAt: upload.fileExpiresAfter ? unixNow() + upload.fileExpiresAfter : null,
    })
  } catch (err) {
    await deps.blobs.delete(blobKey).catch(() => queueGarbage(deps, blobKey))
    throw err
  }
  await deletePartBlobs(deps, uploadId)
  return toUpload({ ...upload, status: 'completed', fileId }, file)
}

export async function cancelUpload(deps: UploadsDeps, projectId: string, uploadId: string) {
  const upload = await getUpload(deps, projectId, uploadId)
  assertPending(upload)
  const [row] = await deps.db
    .update(uploads)
    .set({ status: 'cancelled' })
    .where(and(eq(uploads.id, uploadId), eq(uploads.status, 'pending')))
    .returning()
  if (!row) throw invalidRequest(`Upload ${uploadId} is no longer pending.`, 'upload_id')
  await deletePartBlobs(deps, uploadId)
  return toUpload(row, null)
}

/** Pending uploads past their expiry become expired, and their parts are deleted. */
export async function expireUploads(deps: FilesDeps): Promise<number> {
  const expired = await deps.db
    .update(uploads)
    .set({ status: 'expired' })
    .where(and(eq(uploads.status, 'pending'), lt(uploads.expiresAt, unixNow() + 1)))
    .returning({ id: uploads.id })
  for (const { id } of expired) await deletePartBlobs(deps, id)
  return expired.length
}

async function deletePartBlobs(deps: FilesDeps, uploadId: string): Promise<void> {
  const parts = await deps.db.select({ blobKey: uploadParts.blobKey }).from(uploadParts).where(eq(uploadParts.uploadId, uploadId))
  for (const p of parts) await deps.blobs.delete(p.blobKey).catch(() => queueGarbage(deps, p.blobKey))
  await deps.db.delete(uploadParts).where(eq(uploadParts.uploadId, uploadId))
}

async function md5Of(stream: Readable): Promise<string> {
  const hash = createHash('md5')
  for await (const chunk of stream) hash.update(chunk as Buffer)
  return hash.digest('hex')
}


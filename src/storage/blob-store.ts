import type { Readable } from 'node:stream'

/** Metadata of a stored blob. */
export interface BlobInfo {
  key: string
  bytes: number
}

/**
 * Where datasets, checkpoints and exported models live. Two implementations pass the same
 * contract tests: the local filesystem (embedded default) and S3.
 *
 * Rules every implementation keeps:
 * - `put` is atomic: a reader sees the whole blob or nothing, never a prefix. If the source
 *   stream errors or `signal` aborts while the body is still being read, nothing is left behind
 *   (no temp file, no unfinished multipart upload) and the promise rejects. An abort that comes
 *   after the last byte was read may still commit. On abort the source stream is destroyed.
 * - Keys are '/'-separated relative paths of [A-Za-z0-9._-] segments, no segment empty or
 *   starting with '.' (so no '..', no absolute paths); anything else throws InvalidBlobKeyError
 *   (see blob-keys.ts). Prefixes match like S3's: by string prefix.
 * - `get`, `compose` of a missing key throw BlobNotFoundError.
 */
export interface BlobStore {
  readonly kind: 'fs' | 's3'
  put(key: string, body: Readable | Buffer, opts?: { signal?: AbortSignal; contentType?: string }): Promise<BlobInfo>
  /** The blob's bytes, or bytes [start, end] of it; `end` is inclusive, as in HTTP ranges. */
  get(key: string, opts?: { start?: number; end?: number }): Promise<Readable>
  head(key: string): Promise<BlobInfo | null>
  /** Deletes a blob; a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Deletes every blob under a non-empty prefix (e.g. a job's checkpoints). */
  deletePrefix(prefix: string): Promise<void>
  /** Every blob whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<BlobInfo[]>
  /**
   * Concatenates existing blobs, in order, into a new blob (atomic like put). S3 does it
   * server-side with UploadPartCopy when every source but the last is at least 5 MiB, and
   * streams through otherwise; the filesystem store concatenates into a temp file and renames.
   * At least one source is required.
   */
  compose(key: string, sourceKeys: string[]): Promise<BlobInfo>
  /** A presigned PUT URL for direct uploads (trainer artifacts), or null where the store has none (fs). */
  presignPut(key: string, expiresInSeconds: number): Promise<string | null>
  /** Health check for /readyz. */
  ping(): Promise<void>
  /**
   * Removes what interrupted writes left behind (a crash mid-upload, a cleanup that failed) and has
   * not been written to for `idleMs`; returns how many were removed. Run at start and periodically.
   */
  sweepAbandonedWrites(idleMs: number): Promise<number>
}

export class BlobNotFoundError extends Error {
  readonly key: string
  // A plain field, not a parameter property: Node's type stripping only accepts erasable syntax.
  constructor(key: string) {
    super(`blob not found: ${key}`)
    this.name = 'BlobNotFoundError'
    this.key = key
  }
}

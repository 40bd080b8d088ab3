// The S3 blob store behind a dynamic import: the AWS SDK (about a fifth of a second of CPU to load)
// is read only when an S3-configured process first touches a blob, so processes on the local
// filesystem store never load it, and an S3 server starts listening without waiting for it.
import type { Readable } from 'node:stream'
import type { BlobInfo, BlobStore } from './blob-store.ts'
import type { S3BlobStoreOptions } from './s3-blob-store.ts'

export class LazyS3BlobStore implements BlobStore {
  readonly kind = 's3' as const
  private inner: Promise<BlobStore> | null = null
  private readonly options: S3BlobStoreOptions

  constructor(options: S3BlobStoreOptions) {
    this.options = options
  }

  private store(): Promise<BlobStore> {
    this.inner ??= import('./s3-blob-store.ts').then((m) => m.createS3BlobStore(this.options))
    return this.inner
  }

  async put(key: string, body: Readable | Buffer, opts?: { signal?: AbortSignal; contentType?: string }): Promise<BlobInfo> {
    return (await this.store()).put(key, body, opts)
  }
  async get(key: string, opts?: { start?: number; end?: number }): Promise<Readable> {
    return (await this.store()).get(key, opts)
  }
  async head(key: string): Promise<BlobInfo | null> {
    return (await this.store()).head(key)
  }
  async delete(key: string): Promise<void> {
    return (await this.store()).delete(key)
  }
  async deletePrefix(prefix: string): Promise<void> {
    return (await this.store()).deletePrefix(prefix)
  }
  async list(prefix: string): Promise<BlobInfo[]> {
    return (await this.store()).list(prefix)
  }
  async compose(key: string, sourceKeys: string[]): Promise<BlobInfo> {
    return (await this.store()).compose(key, sourceKeys)
  }
  async presignPut(key: string, expiresInSeconds: number): Promise<string | null> {
    return (await this.store()).presignPut(key, expiresInSeconds)
  }
  async ping(): Promise<void> {
    return (await this.store()).ping()
  }
  /** S3 leaves nothing to sweep (see S3BlobStore): no reason to load the SDK for it. */
  async sweepAbandonedWrites(_idleMs: number): Promise<number> {
    return 0
  }
}

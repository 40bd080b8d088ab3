// Blobs as objects in an S3 bucket (AWS, or MinIO/R2/Ceph through `endpoint` + `forcePathStyle`).
// Puts stream through lib-storage's Upload: one PutObject for small bodies, a multipart upload
// of `partSizeBytes` parts otherwise, holding at most queueSize × partSize bytes in memory. S3
// only shows an object once its upload completes, which is what makes puts atomic.

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { Readable } from 'node:stream'
import { assertValidKey, assertValidPrefix } from './blob-keys.ts'
import { type BlobInfo, BlobNotFoundError, type BlobStore } from './blob-store.ts'
import { type CopyPart, planServerSideCompose } from './compose-plan.ts'
import { concatBlobs } from './concat-blobs.ts'

export interface S3BlobStoreOptions {
  bucket: string
  region: string
  /** For S3-compatible services, e.g. http://minio:9000. Unset means AWS. */
  endpoint?: string
  /** Bucket in the path instead of the host name; MinIO and Ceph usually need it. */
  forcePathStyle?: boolean
  /** A folder inside the bucket for all blobs, e.g. 'skillet' (a trailing '/' is implied). */
  prefix?: string
  /** Unset means the SDK's default chain (env, shared config, IRSA/instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** Multipart part size; 8 MiB allows blobs up to ~78 GiB (10,000 parts). */
  partSizeBytes?: number
  /** Parts uploaded in parallel. */
  queueSize?: number
}

const DEFAULT_PART_BYTES = 8 * 1024 * 1024
const DEFAULT_QUEUE_SIZE = 4

export function createS3BlobStore(opts: S3BlobStoreOptions): S3BlobStore {
  const client = new S3Client({
    region: opts.region,
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials: opts.credentials,
    // The SDK's default (WHEN_SUPPORTED) signs an empty-body CRC32 into presigned PUT URLs,
    // which real S3 then rejects for any non-empty upload; only send checksums S3 demands.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  return new S3BlobStore(client, opts)
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3'
  readonly client: S3Client
  readonly #bucket: string
  readonly #prefix: string
  readonly #partSize: number
  readonly #queueSize: number

  constructor(client: S3Client, opts: S3BlobStoreOptions) {
    this.client = client
    this.#bucket = opts.bucket
    this.#prefix = opts.prefix ? `${opts.prefix.replace(/\/$/, '')}/` : ''
    if (this.#prefix) assertValidKey(this.#prefix.slice(0, -1))
    this.#partSize = opts.partSizeBytes ?? DEFAULT_PART_BYTES
    this.#queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE
  }

  async put(
    key: string,
    body: Readable | Buffer,
    opts: { signal?: AbortSignal; contentType?: string } = {},
  ): Promise<BlobInfo> {
    assertValidKey(key)
    opts.signal?.throwIfAborted()
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body
    // Abort by failing the source rather than through Upload's own abort: then done() settles
    // only after lib-storage has aborted the multipart upload, so nothing is left behind.
    const failSource = () => source.destroy(opts.signal?.reason)
    opts.signal?.addEventListener('abort', failSource, { once: true })
    // Until lib-storage starts reading, a source error would have no listener and crash the
    // process; this one keeps it quiet, and the read loop below still throws it (source.errored).
    source.on('error', ignore)
    let bytes = 0
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        bytes += chunk.length
        yield chunk
      }
    }
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.#bucket, Key: this.#objectKey(key), Body: Readable.from(counted()), ContentType: opts.contentType },
        partSize: this.#partSize,
        queueSize: this.#queueSize,
        leavePartsOnError: false,
      })
      await upload.done()
      return { key, bytes }
    } finally {
      opts.signal?.removeEventListener('abort', failSource)
      source.off('error', ignore)
    }
  }

  async get(key: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    assertValidKey(key)
    const hasRange = range.start !== undefined || range.end !== undefined
    const response = await this.client
      .send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#objectKey(key),
          Range: hasRange ? `bytes=${range.start ?? 0}-${range.end ?? ''}` : undefined,
        }),
      )
      .catch(ifMissing(null))
    if (!response) throw new BlobNotFoundError(key)
    return response.Body as Readable
  }

  async head(key: string): Promise<BlobInfo | null> {
    assertValidKey(key)
    const response = await this.client
      .send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }))
      .catch(ifMissing(null))
    return response ? { key, bytes: response.ContentLength ?? 0 } : null
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key)
    await this.client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) }))
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === '') throw new TypeError('deletePrefix needs a non-empty prefix')
    assertValidPrefix(prefix)
    // Pages hold at most 1,000 keys, which is also DeleteObjects' batch limit.
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.#bucket, Prefix: this.#prefix + prefix, MaxKeys: 1000 },
    )
    for await (const page of pages) {
      const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key }))
      if (objects.length === 0) continue
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: objects, Quiet: true } }),
      )
      const failed = result.Errors ?? []
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} blobs, first: ${failed[0].Key}: ${failed[0].Message}`)
    }
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    assertValidPrefix(prefix)
    const blobs: BlobInfo[] = []
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.#bucket, Prefix: this.#prefix + prefix })
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        blobs.push({ key: (object.Key ?? '').slice(this.#prefix.length), bytes: object.Size ?? 0 })
      }
    }
    return blobs // S3 lists keys in byte order, which for these ASCII keys is sorted order
  }

  async compose(key: string, sourceKeys: string[]): Promise<BlobInfo> {
    assertValidKey(key)
    if (sourceKeys.length === 0) throw new TypeError('compose needs at least one source')
    const sizes: number[] = []
    for (const source of sourceKeys) {
      const info = await this.head(source)
      if (!info) throw new BlobNotFoundError(source)
      sizes.push(info.bytes)
    }
    const plan = planServerSideCompose(sizes)
    if (!plan) return this.put(key, concatBlobs((k) => this.get(k), sourceKeys))
    await this.#copyParts(key, plan, sourceKeys, sizes)
    return { key, bytes: sizes.reduce((a, b) => a + b, 0) }
  }

  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    assertValidKey(key)
    const command = new PutObjectCommand({ Bucket: this.#bucket, Key: this.#objectKey(key) })
    return getSignedUrl(this.client, command, { expiresIn: expiresInSeconds })
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.#bucket }))
  }

  /** Nothing to sweep here: a failed put aborts its multipart upload; after a crash, a bucket lifecycle rule (AbortIncompleteMultipartUpload) does it. */
  async sweepAbandonedWrites(_idleMs: number): Promise<number> {
    return 0
  }

  #objectKey(key: string): string {
    return this.#prefix + key
  }

  /** Server-side concatenation: a multipart upload whose parts are copies of the sources. */
  async #copyParts(key: string, plan: CopyPart[], sourceKeys: string[], sizes: number[]): Promise<void> {
    const target = { Bucket: this.#bucket, Key: this.#objectKey(key) }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand(target))
    try {
      const parts = []
      for (const [index, part] of plan.entries()) {
        const wholeSource = part.start === 0 && part.end === sizes[part.sourceIndex] - 1
        const copied = await this.client.send(
          new UploadPartCopyCommand({
            ...target,
            UploadId,
            PartNumber: index + 1,
            // Valid keys hold only URL-safe characters, so no encoding is needed.
            CopySource: `${this.#bucket}/${this.#objectKey(sourceKeys[part.sourceIndex])}`,
            // Ranged copies only for split sources: some S3-compatibles refuse them on small objects.
            CopySourceRange: wholeSource ? undefined : `bytes=${part.start}-${part.end}`,
          }),
        )
        parts.push({ PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag })
      }
      await this.client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }))
    } catch (err) {
      // Best effort: the copy's own error is the one worth reporting.
      await this.client.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => {})
      throw err
    }
  }
}

function ignore(): void {}

/** A rejection handler: "no such key" (a 404 other than a missing bucket) becomes `fallback`, the rest rethrows. */
function ifMissing<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } }
    if (e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode !== 404) throw err
    return fallback
  }
}

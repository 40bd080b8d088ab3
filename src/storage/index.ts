// The one entry point the service uses: a small options object in, a BlobStore out. The config
// module maps environment variables to these options.

import path from 'node:path'
import type { BlobStore } from './blob-store.ts'
import { FsBlobStore } from './fs-blob-store.ts'
import { LazyS3BlobStore } from './lazy-s3-blob-store.ts'
import type { S3BlobStoreOptions } from './s3-blob-store.ts'

export type BlobStoreConfig = { kind: 'fs'; root: string } | ({ kind: 's3' } & S3BlobStoreOptions)

/** The store for a data dir (files under <dataDir>/blobs) or S3 settings: one rule for the API and its trainers. */
export function blobStoreConfigFor(settings: { dataDir: string; s3?: S3BlobStoreOptions | undefined }): BlobStoreConfig {
  return settings.s3 ? { kind: 's3', ...settings.s3 } : { kind: 'fs', root: path.join(settings.dataDir, 'blobs') }
}

export function createBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.kind) {
    case 'fs':
      return new FsBlobStore({ root: config.root })
    case 's3':
      return new LazyS3BlobStore(config)
  }
}

export type { BlobInfo, BlobStore } from './blob-store.ts'
export { BlobNotFoundError } from './blob-store.ts'
export { InvalidBlobKeyError } from './blob-keys.ts'

// The one entry point the service uses: a small options object in, a BlobStore out. The config
// module maps environment variables to these options.

import type { BlobStore } from './blob-store.ts'
import { FsBlobStore } from './fs-blob-store.ts'
import { LazyS3BlobStore } from './lazy-s3-blob-store.ts'
import type { S3BlobStoreOptions } from './s3-blob-store.ts'

export type BlobStoreConfig = { kind: 'fs'; root: string } | ({ kind: 's3' } & S3BlobStoreOptions)

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

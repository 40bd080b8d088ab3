// What createBlobStore hands an S3-configured process: the S3 store behind a dynamic import of the
// AWS SDK. It keeps the whole blob-store contract (against the emulator over real HTTP).
import t from 'tap'
import { createBlobStore } from '../../src/storage/index.ts'
import { MiB } from '../helpers/generated-stream.ts'
import { createBucket, emulatorStoreOptions, s3Leftovers, startS3Emulator } from '../helpers/s3-emulator.ts'
import { blobStoreContract } from './blob-store-contract.ts'

const emulator = await startS3Emulator()
t.teardown(() => emulator.stop())

blobStoreContract(
  async () => {
    const bucket = await createBucket(emulator.endpoint)
    const store = createBlobStore({ kind: 's3', ...emulatorStoreOptions(emulator.endpoint, bucket) })
    return {
      store,
      leftovers: () => s3Leftovers(store, emulator.endpoint, bucket),
      close: async () => {},
    }
  },
  { bigPutBytes: 4 * MiB },
)

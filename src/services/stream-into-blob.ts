import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ByteCounter, ByteLimitExceededError } from '../lib/byte-limit.ts'
import { payloadTooLarge } from '../lib/errors.ts'
import type { BlobInfo, BlobStore } from '../storage/blob-store.ts'

/**
 * Streams a request body into a blob, failing with 413 (and storing nothing) past `maxBytes`.
 * Memory stays flat: bytes flow from the socket to the store with backpressure.
 */
export async function streamIntoBlob(
  blobs: BlobStore,
  key: string,
  source: Readable,
  limit: { maxBytes: number; param: string; what: string },
  signal?: AbortSignal,
): Promise<BlobInfo> {
  const counter = new ByteCounter(limit.maxBytes)
  try {
    const [info] = await Promise.all([blobs.put(key, counter, { signal }), pipeline(source, counter)])
    return info
  } catch (err) {
    source.resume() // drain what the client still sends, so the error can be delivered
    if (err instanceof ByteLimitExceededError) {
      throw payloadTooLarge(`${limit.what} is too large: the limit is ${limit.maxBytes} bytes.`, limit.param)
    }
    throw err
  }
}

import { Readable } from 'node:stream'

/**
 * One stream of several blobs' bytes, in order. Each source is opened only when the previous
 * one is drained, so memory stays flat; destroying the result destroys the open source too.
 */
export function concatBlobs(open: (key: string) => Promise<Readable>, keys: string[]): Readable {
  async function* bytesInOrder(): AsyncGenerator<Buffer> {
    for (const key of keys) yield* await open(key)
  }
  return Readable.from(bytesInOrder())
}

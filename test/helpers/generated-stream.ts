// Deterministic test bytes made on demand, so a test or bench can stream gigabytes without
// holding them: chunk i is a 256-byte ramp shifted by i, stamped with i in its first 4 bytes.
// Options make the stream fail or stall part way, like a client that errors or goes quiet.

import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'

export const MiB = 1024 * 1024

export interface GeneratedStreamOptions {
  chunkBytes?: number
  /** Error out once this many bytes have been produced. */
  failAfterBytes?: number
  /** Stop producing (without ending) once this many bytes were produced; `onStall` is called then. */
  stallAfterBytes?: number
  onStall?: () => void
}

export function generatedStream(totalBytes: number, opts: GeneratedStreamOptions = {}): Readable {
  const chunkBytes = opts.chunkBytes ?? MiB
  const ramp = Buffer.alloc(chunkBytes + 256)
  for (let i = 0; i < ramp.length; i++) ramp[i] = i & 255
  let produced = 0
  let index = 0
  let stalled = false
  // A plain Readable rather than an async generator: a stalled generator cannot be destroyed.
  // The one-chunk buffer keeps "produced" close to "consumed".
  return new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (opts.failAfterBytes !== undefined && produced >= opts.failAfterBytes) {
        this.destroy(new Error('source failed'))
      } else if (opts.stallAfterBytes !== undefined && produced >= opts.stallAfterBytes) {
        if (!stalled) opts.onStall?.() // and push nothing: the stream goes quiet
        stalled = true
      } else if (produced >= totalBytes) {
        this.push(null)
      } else {
        const size = Math.min(chunkBytes, totalBytes - produced)
        const offset = index & 255
        const chunk = Buffer.from(ramp.subarray(offset, offset + size)) // a copy: consumers may keep it
        if (size >= 4) chunk.writeUInt32BE(index, 0)
        produced += size
        index++
        this.push(chunk)
      }
    },
  })
}

export async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of stream) hash.update(chunk)
  return hash.digest('hex')
}

/** Highest RSS growth over the baseline while `work` runs, sampled every 10 ms. */
export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; peakGrowthBytes: number }> {
  const baseline = process.memoryUsage.rss()
  let peak = baseline
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 10)
  try {
    const result = await work()
    peak = Math.max(peak, process.memoryUsage.rss())
    return { result, peakGrowthBytes: peak - baseline }
  } finally {
    clearInterval(timer)
  }
}

import { Transform, type TransformCallback } from 'node:stream'

export class ByteLimitExceededError extends Error {
  readonly limit: number
  constructor(limit: number) {
    super(`more than ${limit} bytes`)
    this.name = 'ByteLimitExceededError'
    this.limit = limit
  }
}

/** A pass-through that counts bytes and fails the stream as soon as it passes `limit`. */
export class ByteCounter extends Transform {
  bytes = 0
  private readonly limit: number
  constructor(limit: number) {
    super()
    this.limit = limit
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.limit) return done(new ByteLimitExceededError(this.limit))
    done(null, chunk)
  }
}

// Blob keys become file paths (fs store) and object keys (S3), so they are checked once, here,
// before either store touches them. The rules keep every key inside the store's root and out
// of the fs store's private `.tmp/` folder.

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/
const MAX_KEY_LENGTH = 1024 // S3's own limit on object key length, in bytes (keys here are ASCII)

export class InvalidBlobKeyError extends Error {
  readonly key: string
  constructor(key: string, reason: string) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`)
    this.name = 'InvalidBlobKeyError'
    this.key = key
  }
}

/** Why `key` is not a valid blob key, or null when it is. */
export function blobKeyProblem(key: string): string | null {
  if (key.length === 0) return 'empty'
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`
  for (const segment of key.split('/')) {
    if (segment === '') return 'empty path segment (leading, trailing or double slash)'
    if (!SEGMENT.test(segment)) return `segment ${JSON.stringify(segment)} must be [A-Za-z0-9._-] and not start with '.'`
  }
  return null
}

export function assertValidKey(key: string): void {
  const problem = blobKeyProblem(key)
  if (problem !== null) throw new InvalidBlobKeyError(key, problem)
}

/**
 * A prefix is a key, a key followed by '/', or '' (everything). Like S3, matching is by string
 * prefix: 'jobs/j1' matches 'jobs/j1/a' and 'jobs/j10/a'; 'jobs/j1/' matches only the first.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return
  const problem = blobKeyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)
  if (problem !== null) throw new InvalidBlobKeyError(prefix, problem)
}

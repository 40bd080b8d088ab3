import { createHash } from 'node:crypto'
import { randomBase62 } from '../lib/ids.ts'

/** A new secret API key: "sk-" + 48 base62 characters (~285 bits). Shown once, stored only as a hash. */
export function generateApiKey(): string {
  return `sk-${randomBase62(48)}`
}

/** SHA-256, hex. Keys are high-entropy random strings, so a fast hash is the right tool (no salt or KDF needed). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** The bearer token from an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return m ? m[1] : null
}

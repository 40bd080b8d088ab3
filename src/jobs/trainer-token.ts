// Each attempt of a job gets its own bearer token for the internal trainer endpoints. Only its
// SHA-256 is stored, and a new attempt replaces it, so a trainer from a lost attempt is locked out.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function newTrainerToken(): { token: string; hash: string } {
  const token = `sktr_${randomBytes(32).toString('base64url')}`
  return { token, hash: hashTrainerToken(token) }
}

export function hashTrainerToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function trainerTokenMatches(token: string, storedHash: string | null): boolean {
  if (!storedHash) return false
  const a = Buffer.from(hashTrainerToken(token), 'hex')
  const b = Buffer.from(storedHash, 'hex')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Where a job's checkpoints and artifacts live in the blob store. */
export function jobOutputPrefix(projectId: string, jobId: string): string {
  return `jobs/${projectId}/${jobId}/`
}

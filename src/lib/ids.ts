import { randomBytes } from 'node:crypto'

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Uniform random base62 string (rejection sampling, so no modulo bias). */
export function randomBase62(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62]
      if (out.length === length) break
    }
  }
  return out
}

/** Object ids in OpenAI's style: "file-" + 22 base62 characters, "upload_…", "ftjob-…". */
export const newId = {
  project: () => `proj_${randomBase62(24)}`,
  apiKey: () => `key_${randomBase62(24)}`,
  file: () => `file-${randomBase62(22)}`,
  upload: () => `upload_${randomBase62(24)}`,
  part: () => `part_${randomBase62(24)}`,
}

/** Current time as unix seconds, the unit of every `created_at` on the wire. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000)
}

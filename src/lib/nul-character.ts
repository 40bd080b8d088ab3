// Postgres cannot store the NUL character (U+0000) in text or jsonb: any value carrying one must be
// refused at the edge (client input) or escaped before it is stored (messages quoting user data).
import { invalidRequest } from './errors.ts'

/** The dotted path of the first string (value or object key) holding U+0000 in `value`, or null. */
export function findNul(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '(value)' : null
  if (value === null || typeof value !== 'object') return null
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], path ? `${path}.${i}` : String(i))
      if (found !== null) return found
    }
    return null
  }
  for (const [key, item] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key
    if (key.includes('\u0000')) return here
    const found = findNul(item, here)
    if (found !== null) return found
  }
  return null
}

/** Control characters other than tab, newline and carriage return, written as \uXXXX so the text can be stored and shown. */
export function storableText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** 400 naming the parameter when `value` (a string, or any JSON value) holds U+0000. */
export function refuseNul(value: unknown, param: string): void {
  const found = findNul(value)
  if (found === null) return
  const name = storableText(found === '(value)' ? param || 'body' : param ? `${param}.${found}` : found)
  throw invalidRequest(`Invalid value for '${name}': text must not contain the NUL character (\\u0000).`, name, 'invalid_value')
}

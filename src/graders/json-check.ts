// Structured-output checks of an answer, 1 or 0: `validJson` — it parses as JSON (any JSON value);
// `matchesJsonSchema` — it parses and the value satisfies a JSON Schema (draft 2020-12, checked by
// TypeBox's schema validator, the library the API already validates with).
import Schema from 'typebox/schema'

function parsed(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

export function validJson(text: string): number {
  return parsed(text).ok ? 1 : 0
}

export function matchesJsonSchema(text: string, schema: Record<string, unknown>): number {
  const p = parsed(text)
  return p.ok && Schema.Check(schema as Schema.XSchema, p.value) ? 1 : 0
}

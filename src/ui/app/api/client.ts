// The dashboard's API client: the official openai SDK pointed at this server (it is a public-API
// client like any other), plus raw authenticated fetches for what the SDK has no method for.
import OpenAI from 'openai'

export type Client = OpenAI

export const API_BASE = `${location.origin}/v1`

export function makeClient(apiKey: string): Client {
  // "dangerouslyAllowBrowser": the key is the user's own, typed into this page, never embedded in it.
  return new OpenAI({ apiKey, baseURL: API_BASE, dangerouslyAllowBrowser: true, maxRetries: 1, timeout: 120_000 })
}

/** OpenAI's error envelope message, or the error's own. */
export function errorMessage(err: unknown): string {
  if (err instanceof OpenAI.APIError) {
    const body = err.error as { message?: string } | undefined
    if (body?.message) return body.message
    if (err.status) return `${err.status}: ${err.message}`
  }
  return err instanceof Error ? err.message : String(err)
}

/** A GET with the key as a Bearer token; throws with the envelope's message on a non-2xx answer. */
export async function authedFetch(apiKey: string, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${API_BASE}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${apiKey}` } })
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null
    throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`)
  }
  return res
}

// One HTTP POST to a receiver, through the SSRF guard, with a deadline. Redirects are not followed
// (a 3xx counts as a failure, as with Svix), and only the first bytes of the answer are kept.
import http from 'node:http'
import https from 'node:https'
import { assertLiteralHostAllowed, guardedLookup, type Resolver } from './url-guard.ts'
import type { AttemptResult } from './attempt-outcome.ts'

const RESPONSE_EXCERPT_BYTES = 1024

export interface SendOptions {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  allowHosts: readonly string[]
  resolve?: Resolver
}

export type SendResult = AttemptResult & { durationMs: number; responseExcerpt: string | null }

/** Never throws: every failure (refused address, timeout, connection error) becomes `{error}`. */
export async function sendWebhook(opts: SendOptions): Promise<SendResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  try {
    const url = new URL(opts.url)
    assertLiteralHostAllowed(url.hostname, opts.allowHosts)
    const { statusCode, excerpt } = await post(url, opts)
    return { statusCode, durationMs: elapsed(), responseExcerpt: excerpt }
  } catch (err) {
    return { error: describe(err, opts.timeoutMs), durationMs: elapsed(), responseExcerpt: null }
  }
}

function post(url: URL, opts: SendOptions): Promise<{ statusCode: number; excerpt: string }> {
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: {
          ...opts.headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(opts.body)),
          'user-agent': 'Skillet-Webhooks/1',
        },
        lookup: guardedLookup(opts.allowHosts, opts.resolve),
        // A fresh connection per attempt: no pooled socket outlives the check of its address.
        agent: false,
        signal: AbortSignal.timeout(opts.timeoutMs),
      },
      (response) => {
        const chunks: Buffer[] = []
        let kept = 0
        response.on('data', (chunk: Buffer) => {
          if (kept < RESPONSE_EXCERPT_BYTES) {
            chunks.push(chunk)
            kept += chunk.length
          }
        })
        response.on('end', () =>
          resolve({ statusCode: response.statusCode ?? 0, excerpt: Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8') }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(opts.body)
  })
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timed out after ${timeoutMs} ms`
  if (e.code === 'EWEBHOOKREFUSED') return `refused: the URL ${e.message}`
  return e.code ? `${e.code}: ${e.message}` : (e.message ?? String(err))
}

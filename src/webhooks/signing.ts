// Standard Webhooks signatures (https://www.standardwebhooks.com), the scheme OpenAI's SDKs verify:
// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64 bytes after `whsec_`.
// The standardwebhooks package does the HMAC; this file adds secret generation and rotation.
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

/** `whsec_` + base64 of 32 random bytes, the format OpenAI and Svix use. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/** What listings show instead of the secret: enough to tell two secrets apart, too little to sign. */
export function signingSecretHint(secret: string): string {
  return `whsec_…${secret.slice(-4)}`
}

// A type literal, not an interface, so it passes where a Record<string, string> of headers is wanted.
export type SignedHeaders = {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/**
 * The three Standard Webhooks headers for one attempt. With several secrets (during a rotation) the
 * signature header lists one signature per secret, separated by spaces; a receiver accepts any match.
 */
export function signWebhook(opts: { id: string; timestampSeconds: number; body: string; secrets: readonly string[] }): SignedHeaders {
  if (opts.secrets.length === 0) throw new Error('signWebhook needs at least one secret')
  const at = new Date(opts.timestampSeconds * 1000)
  return {
    'webhook-id': opts.id,
    'webhook-timestamp': String(opts.timestampSeconds),
    'webhook-signature': opts.secrets.map((secret) => new Webhook(secret).sign(opts.id, at, opts.body)).join(' '),
  }
}

/** The secrets to sign with now: the current one, plus the previous one while its grace period lasts. */
export function activeSecrets(endpoint: { secret: string; previousSecret: string | null; previousSecretExpiresAt: number | null }, nowSeconds: number): string[] {
  const keepPrevious = endpoint.previousSecret !== null && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > nowSeconds
  return keepPrevious ? [endpoint.secret, endpoint.previousSecret as string] : [endpoint.secret]
}

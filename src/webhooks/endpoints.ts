// Webhook endpoints: a project's receivers. Always scoped to the project, so another project's
// endpoint is "not found" exactly like one that never existed.
import { and, desc, eq, lt } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { webhookEndpoints } from '../db/schema/index.ts'
import { invalidRequest, notFound } from '../lib/errors.ts'
import { unixNow } from '../lib/ids.ts'
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from './event-types.ts'
import { newWebhookId } from './ids.ts'
import { newSigningSecret, signingSecretHint } from './signing.ts'
import { checkEndpointUrl, type Resolver } from './url-guard.ts'

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect

export interface WebhookEndpointsDeps {
  db: Db
  allowHosts: readonly string[]
  resolve?: Resolver
}

/** How long `keep_old_secret_active_for_24_hours` keeps the previous secret signing. */
export const ROTATION_GRACE_SECONDS = 24 * 3600

/** The wire shape of the openai SDK's WebhookEndpoint, plus Skillet's `status` and `disabled_reason`. */
export interface WebhookEndpointWire {
  id: string
  object: 'webhook_endpoint'
  created_at: number
  updated_at: number
  name: string
  url: string
  event_types: string[]
  signing_secret_hint: string | null
  status: 'enabled' | 'disabled'
  disabled_reason: string | null
}

export function toWebhookEndpoint(row: WebhookEndpointRow): WebhookEndpointWire {
  return {
    id: row.id,
    object: 'webhook_endpoint',
    created_at: row.createdAt,
    updated_at: row.updatedAt,
    name: row.name,
    url: row.url,
    event_types: row.eventTypes,
    signing_secret_hint: signingSecretHint(row.secret),
    status: row.status as 'enabled' | 'disabled',
    disabled_reason: row.disabledReason,
  }
}

/** Create and rotate also show the secret, that once. */
export function toWebhookEndpointWithSecret(row: WebhookEndpointRow): WebhookEndpointWire & { signing_secret: string } {
  return { ...toWebhookEndpoint(row), signing_secret: row.secret }
}

export async function createWebhookEndpoint(
  deps: WebhookEndpointsDeps,
  projectId: string,
  input: { name: string; url: string; event_types: string[] },
): Promise<WebhookEndpointRow> {
  const eventTypes = checkEventTypes(input.event_types)
  const url = await checkUrl(deps, input.url)
  const now = unixNow()
  const [row] = await deps.db
    .insert(webhookEndpoints)
    .values({
      id: newWebhookId.endpoint(),
      projectId,
      name: input.name,
      url,
      eventTypes,
      secret: newSigningSecret(),
      status: 'enabled',
      createdAt: now,
      updatedAt: now,
    })
    .returning()
  return row
}

export async function getWebhookEndpoint(deps: { db: Db }, projectId: string, id: string): Promise<WebhookEndpointRow> {
  const [row] = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, projectId)))
  if (!row) throw notFound('WebhookEndpoint', id, 'webhook_endpoint_id')
  return row
}

/** Newest first, with the `after` cursor the SDK's auto-pagination sends. */
export async function listWebhookEndpoints(
  deps: { db: Db },
  projectId: string,
  q: { limit: number; after?: string },
): Promise<{ data: WebhookEndpointRow[]; hasMore: boolean }> {
  const conditions = [eq(webhookEndpoints.projectId, projectId)]
  if (q.after) {
    const [cursor] = await deps.db
      .select({ seq: webhookEndpoints.seq })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, q.after), eq(webhookEndpoints.projectId, projectId)))
    if (!cursor) throw invalidRequest(`No such WebhookEndpoint object: ${q.after} (used as the 'after' cursor).`, 'after')
    conditions.push(lt(webhookEndpoints.seq, cursor.seq))
  }
  const rows = await deps.db
    .select()
    .from(webhookEndpoints)
    .where(and(...conditions))
    .orderBy(desc(webhookEndpoints.seq))
    .limit(q.limit + 1)
  return { data: rows.slice(0, q.limit), hasMore: rows.length > q.limit }
}

/**
 * Changes what is given. `updated_at` moves only when something actually changed. Setting `status` to
 * `enabled` again (or giving a new URL) re-enables an endpoint that a 410 Gone disabled.
 */
export async function updateWebhookEndpoint(
  deps: WebhookEndpointsDeps,
  projectId: string,
  id: string,
  input: { name?: string; url?: string; event_types?: string[]; status?: 'enabled' | 'disabled' },
): Promise<WebhookEndpointRow> {
  const row = await getWebhookEndpoint(deps, projectId, id)
  const changes: Partial<WebhookEndpointRow> = {}
  if (input.name !== undefined && input.name !== row.name) changes.name = input.name
  if (input.event_types !== undefined) {
    const eventTypes = checkEventTypes(input.event_types)
    if (eventTypes.join(',') !== row.eventTypes.join(',')) changes.eventTypes = eventTypes
  }
  if (input.url !== undefined && input.url !== row.url) {
    changes.url = await checkUrl(deps, input.url)
    if (input.status === undefined && row.status === 'disabled') changes.status = 'enabled'
  }
  if (input.status !== undefined && input.status !== row.status) changes.status = input.status
  if (changes.status === 'enabled') changes.disabledReason = null
  if (changes.status === 'disabled') changes.disabledReason = 'disabled by its owner'
  if (Object.keys(changes).length === 0) return row
  const [saved] = await deps.db
    .update(webhookEndpoints)
    .set({ ...changes, updatedAt: unixNow() })
    .where(and(eq(webhookEndpoints.id, row.id), eq(webhookEndpoints.projectId, projectId)))
    .returning()
  return saved
}

/** Deleting an endpoint drops its pending deliveries with it (foreign keys cascade). */
export async function deleteWebhookEndpoint(deps: { db: Db }, projectId: string, id: string): Promise<void> {
  const gone = await deps.db
    .delete(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.projectId, projectId)))
    .returning({ id: webhookEndpoints.id })
  if (gone.length === 0) throw notFound('WebhookEndpoint', id, 'webhook_endpoint_id')
}

/**
 * A new secret. With `keepOldFor24Hours` the old one keeps signing beside it for 24 hours (every delivery
 * then carries two signatures), so receivers can switch without dropping a webhook; otherwise it stops at once.
 */
export async function rotateWebhookSecret(
  deps: { db: Db },
  projectId: string,
  id: string,
  opts: { keepOldFor24Hours: boolean },
): Promise<WebhookEndpointRow> {
  const row = await getWebhookEndpoint(deps, projectId, id)
  const now = unixNow()
  const [saved] = await deps.db
    .update(webhookEndpoints)
    .set({
      secret: newSigningSecret(),
      previousSecret: opts.keepOldFor24Hours ? row.secret : null,
      previousSecretExpiresAt: opts.keepOldFor24Hours ? now + ROTATION_GRACE_SECONDS : null,
      updatedAt: now,
    })
    .where(and(eq(webhookEndpoints.id, row.id), eq(webhookEndpoints.projectId, projectId)))
    .returning()
  return saved
}

function checkEventTypes(given: string[]): string[] {
  if (given.length === 0) throw invalidRequest("Invalid value for 'event_types': give at least one event type.", 'event_types')
  const unknown = given.filter((t) => !isWebhookEventType(t))
  if (unknown.length > 0) {
    throw invalidRequest(
      `Invalid value for 'event_types': ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not sent by this service. Supported: ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
      'event_types',
    )
  }
  return [...new Set(given)]
}

async function checkUrl(deps: WebhookEndpointsDeps, raw: string): Promise<string> {
  const check = await checkEndpointUrl(raw, deps)
  if (!check.ok) throw invalidRequest(`Invalid value for 'url': the URL ${check.reason}.`, 'url')
  return check.url.toString()
}

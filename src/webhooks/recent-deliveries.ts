// An endpoint's recent deliveries, newest first, each with its latest attempt: what the receiver
// answered (or why nothing came back). For the dashboard and for anyone debugging a receiver.
import { and, desc, eq, inArray } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { webhookAttempts, webhookDeliveries, webhookEvents } from '../db/schema/index.ts'
import { getWebhookEndpoint } from './endpoints.ts'

export async function listRecentDeliveries(deps: { db: Db }, projectId: string, endpointId: string, limit: number) {
  await getWebhookEndpoint(deps, projectId, endpointId)
  const rows = await deps.db
    .select({ delivery: webhookDeliveries, eventType: webhookEvents.type })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.endpointId, endpointId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit)
  const ids = rows.map((r) => r.delivery.id)
  const attempts = ids.length === 0 ? [] : await deps.db.select().from(webhookAttempts).where(and(inArray(webhookAttempts.deliveryId, ids))).orderBy(desc(webhookAttempts.attempt))
  const latest = new Map<string, (typeof attempts)[number]>()
  for (const a of attempts) if (!latest.has(a.deliveryId)) latest.set(a.deliveryId, a)
  return rows.map(({ delivery: d, eventType }) => {
    const a = latest.get(d.id)
    return {
      id: d.id,
      object: 'webhook_endpoint.delivery' as const,
      event_id: d.eventId,
      event_type: eventType,
      status: d.status as 'pending' | 'delivered' | 'failed',
      attempts: d.attempts,
      created_at: d.createdAt,
      finished_at: d.finishedAt ?? null,
      last_attempt: a
        ? { status: a.status, started_at: a.startedAt, response_status: a.responseStatus ?? null, error: a.error ?? null, duration_ms: a.durationMs ?? null }
        : null,
    }
  })
}

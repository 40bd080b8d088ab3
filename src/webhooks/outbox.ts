// The transactional outbox. Whoever changes state calls enqueueWebhookEvent inside the same
// transaction, so the event exists if and only if the change committed; the dispatcher delivers it later.
import { and, arrayContains, eq } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { webhookDeliveries, webhookEndpoints, webhookEvents } from '../db/schema/index.ts'
import { unixNow } from '../lib/ids.ts'
import type { WebhookEventPayload, WebhookEventType } from './event-types.ts'
import { newWebhookId } from './ids.ts'

/** A database or a transaction on it: pass the transaction that makes the change being announced. */
export type DbOrTx = Pick<Db, 'insert' | 'select'>

/**
 * Writes the event and one pending delivery per enabled endpoint of the project that subscribes to its
 * type. Returns the event's id (`evt_…`). Due at once: the dispatcher's next pass sends it.
 */
export async function enqueueWebhookEvent(
  tx: DbOrTx,
  event: { projectId: string; type: WebhookEventType; data: { id: string }; createdAt?: number },
): Promise<string> {
  const createdAt = event.createdAt ?? unixNow()
  const payload: WebhookEventPayload = { id: newWebhookId.event(), object: 'event', type: event.type, created_at: createdAt, data: { id: event.data.id } }
  await tx.insert(webhookEvents).values({ id: payload.id, projectId: event.projectId, type: event.type, body: JSON.stringify(payload), createdAt })
  const endpoints = await tx
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.projectId, event.projectId), eq(webhookEndpoints.status, 'enabled'), arrayContains(webhookEndpoints.eventTypes, [event.type])))
  if (endpoints.length > 0) {
    await tx.insert(webhookDeliveries).values(
      endpoints.map((endpoint) => ({
        id: newWebhookId.delivery(),
        eventId: payload.id,
        endpointId: endpoint.id,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: createdAt,
        createdAt,
      })),
    )
  }
  return payload.id
}

// "Send a test event": one signed delivery of a sample event, right now, answered with the receiver's
// status code. It is recorded like any delivery (event, delivery, attempt) but never retried, and a
// 410 does not disable the endpoint: the owner is checking a receiver, not running one. What the
// dispatcher would make of the answer (decideAfterAttempt: delivered, retried, endpoint disabled) is
// reported with it, so a 500 or a 302 is not taken for a working receiver.
import type { Db } from '../db/database.ts'
import { webhookAttempts, webhookDeliveries, webhookEvents } from '../db/schema/index.ts'
import { decideAfterAttempt } from './attempt-outcome.ts'
import { attemptDelivery, type DeliveryTransport } from './deliver.ts'
import { getWebhookEndpoint } from './endpoints.ts'
import type { WebhookEventPayload, WebhookEventType } from './event-types.ts'
import { newWebhookId } from './ids.ts'
import type { SendResult } from './sender.ts'

/** What the dispatcher would do after this answer to a real event. */
export type TestOutcome = 'delivered' | 'would_retry' | 'would_disable_endpoint'

/** The job id test events carry: no job has it, so a receiver can tell a test from the real thing. */
export const TEST_EVENT_JOB_ID = 'ftjob-test'

export async function sendTestEvent(
  deps: { db: Db; transport: DeliveryTransport; now?: () => number },
  projectId: string,
  endpointId: string,
  type: WebhookEventType,
): Promise<SendResult & { outcome: TestOutcome }> {
  const endpoint = await getWebhookEndpoint(deps, projectId, endpointId)
  const now = Math.floor((deps.now ?? Date.now)() / 1000)
  const payload: WebhookEventPayload = { id: newWebhookId.event(), object: 'event', type, created_at: now, data: { id: TEST_EVENT_JOB_ID } }
  const body = JSON.stringify(payload)
  const deliveryId = newWebhookId.delivery()
  const result = await attemptDelivery(deps.transport, { deliveryId, body, ...endpoint }, now)
  const decision = decideAfterAttempt({ result, attemptsMade: 1, createdAt: now, now, random: 0.5 })
  const ok = decision.kind === 'delivered'
  await deps.db.transaction(async (tx) => {
    await tx.insert(webhookEvents).values({ id: payload.id, projectId, type, body, createdAt: now })
    await tx.insert(webhookDeliveries).values({
      id: deliveryId,
      eventId: payload.id,
      endpointId: endpoint.id,
      status: ok ? 'delivered' : 'failed',
      attempts: 1,
      nextAttemptAt: now,
      createdAt: now,
      finishedAt: now,
    })
    await tx.insert(webhookAttempts).values({
      deliveryId,
      attempt: 1,
      startedAt: now,
      status: ok ? 'succeeded' : 'failed',
      responseStatus: 'statusCode' in result ? result.statusCode : null,
      responseExcerpt: result.responseExcerpt,
      error: 'error' in result ? result.error : null,
      durationMs: result.durationMs,
    })
  })
  return { ...result, outcome: decision.kind === 'delivered' ? 'delivered' : decision.kind === 'endpoint_gone' ? 'would_disable_endpoint' : 'would_retry' }
}

// The events Skillet sends, with OpenAI's names and its thin payload: the receiver fetches the job by id.

export const WEBHOOK_EVENT_TYPES = ['fine_tuning.job.succeeded', 'fine_tuning.job.failed', 'fine_tuning.job.cancelled'] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value)
}

/** `{id, object: 'event', type, created_at, data: {id}}`, as OpenAI sends it. */
export interface WebhookEventPayload {
  id: string
  object: 'event'
  type: WebhookEventType
  created_at: number
  data: { id: string }
}

// Webhook endpoints, in the shapes of the openai SDK v7 (`client.webhooks.*`), plus Skillet's `status`.
import { Type } from 'typebox'
import { CursorList, Unixtime } from './common.ts'

const endpointProperties = {
  id: Type.String(),
  object: Type.Literal('webhook_endpoint'),
  created_at: Unixtime,
  updated_at: Unixtime,
  name: Type.String(),
  url: Type.String(),
  event_types: Type.Array(Type.String()),
  signing_secret_hint: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
    description: 'Skillet extension: `disabled` after the receiver answered 410 Gone, or when its owner disabled it.',
  }),
  disabled_reason: Type.Union([Type.String(), Type.Null()], { description: 'Skillet extension: why the endpoint is disabled.' }),
}

export const WebhookEndpoint = Type.Object(endpointProperties)

export const WebhookEndpointWithSecret = Type.Object(
  {
    ...endpointProperties,
    signing_secret: Type.String({ description: 'whsec_ followed by base64 of 32 random bytes. Returned only by create and rotate_secret.' }),
  },
)

const EventTypes = Type.Array(Type.String({ maxLength: 128 }), { maxItems: 32, description: 'Skillet sends fine_tuning.job.succeeded, .failed and .cancelled.' })

export const CreateWebhookEndpointRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  event_types: EventTypes,
})

export const UpdateWebhookEndpointRequest = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  event_types: Type.Optional(EventTypes),
  status: Type.Optional(
    Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { description: 'Skillet extension: enable or disable deliveries.' }),
  ),
})

export const RotateWebhookSecretRequest = Type.Object({
  keep_old_secret_active_for_24_hours: Type.Optional(Type.Boolean({ default: false })),
})

export const TestWebhookEndpointRequest = Type.Object({ event_type: Type.String({ maxLength: 128 }) })

export const WebhookEndpointTestResult = Type.Object({
  object: Type.Literal('webhook_endpoint.test'),
  webhook_endpoint_id: Type.String(),
  event_type: Type.String(),
  status_code: Type.Integer(),
  success: Type.Literal(true, { description: "As OpenAI's: the test request completed (an answer came back). Whether the answer counts as delivered is `delivered`." }),
  delivered: Type.Boolean({ description: 'Skillet extension: true when the dispatcher would record this answer as delivered (2xx); a 3xx, 4xx or 5xx is not.' }),
  outcome: Type.Union([Type.Literal('delivered'), Type.Literal('would_retry'), Type.Literal('would_disable_endpoint')], {
    description: 'Skillet extension: what the dispatcher would do after this answer to a real event (410 Gone disables an endpoint; a test never does).',
  }),
})

export const WebhookEndpointIdParams = Type.Object({ webhook_endpoint_id: Type.String() })

export const ListWebhookEndpointsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  after: Type.Optional(Type.String()),
})

export const ListWebhookEndpointsResponse = CursorList(WebhookEndpoint)

export const DeletedWebhookEndpoint = Type.Object({
  id: Type.String(),
  object: Type.Literal('webhook_endpoint.deleted'),
  deleted: Type.Boolean(),
})

export const WebhookEventTypeList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.String()),
})

export const WebhookDelivery = Type.Object({
  id: Type.String({ description: 'The `webhook-id` header: the same on every attempt.' }),
  object: Type.Literal('webhook_endpoint.delivery'),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  created_at: Unixtime,
  finished_at: Type.Union([Unixtime, Type.Null()]),
  last_attempt: Type.Union([
    Type.Object({
      status: Type.String({ description: 'sending, succeeded or failed.' }),
      started_at: Unixtime,
      response_status: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.Union([Type.String(), Type.Null()], { description: 'Why no answer came back: timeout, refused address, connection error.' }),
      duration_ms: Type.Union([Type.Integer(), Type.Null()]),
    }),
    Type.Null(),
  ]),
})

export const ListWebhookDeliveriesQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) })

export const ListWebhookDeliveriesResponse = Type.Object({ object: Type.Literal('list'), data: Type.Array(WebhookDelivery) })

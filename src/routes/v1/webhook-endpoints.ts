// /v1/webhook_endpoints — the openai SDK's `client.webhooks` resource. Handlers are thin: parse, call
// the service in src/webhooks/, shape the answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ApiError, invalidRequest } from '../../lib/errors.ts'
import { errorResponses } from '../../schemas/common.ts'
import {
  CreateWebhookEndpointRequest,
  DeletedWebhookEndpoint,
  ListWebhookDeliveriesQuery,
  ListWebhookDeliveriesResponse,
  ListWebhookEndpointsQuery,
  ListWebhookEndpointsResponse,
  RotateWebhookSecretRequest,
  TestWebhookEndpointRequest,
  UpdateWebhookEndpointRequest,
  WebhookEndpoint,
  WebhookEndpointIdParams,
  WebhookEndpointTestResult,
  WebhookEndpointWithSecret,
  WebhookEventTypeList,
} from '../../schemas/webhooks.ts'
import type { AppServices } from '../../services/app-services.ts'
import * as endpoints from '../../webhooks/endpoints.ts'
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from '../../webhooks/event-types.ts'
import { sendTestEvent } from '../../webhooks/test-event.ts'
import { listRecentDeliveries } from '../../webhooks/recent-deliveries.ts'

const tags = ['Webhooks']

const webhookEndpointsRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { db } = services.database
  const { allowHosts, timeoutMs } = services.config.webhooks
  const deps = { db, allowHosts }

  app.post(
    '/webhook_endpoints',
    { schema: { summary: 'Create a webhook endpoint', tags, body: CreateWebhookEndpointRequest, response: { 200: WebhookEndpointWithSecret, ...errorResponses } } },
    async (request) => endpoints.toWebhookEndpointWithSecret(await endpoints.createWebhookEndpoint(deps, request.principal.projectId, request.body)),
  )

  app.get(
    '/webhook_endpoints',
    { schema: { summary: 'List webhook endpoints', tags, querystring: ListWebhookEndpointsQuery, response: { 200: ListWebhookEndpointsResponse, ...errorResponses } } },
    async (request) => {
      const { data, hasMore } = await endpoints.listWebhookEndpoints(deps, request.principal.projectId, request.query)
      return {
        object: 'list' as const,
        data: data.map(endpoints.toWebhookEndpoint),
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: hasMore,
      }
    },
  )

  app.get(
    '/webhook_endpoints/:webhook_endpoint_id',
    { schema: { summary: 'Retrieve a webhook endpoint', tags, params: WebhookEndpointIdParams, response: { 200: WebhookEndpoint, ...errorResponses } } },
    async (request) => endpoints.toWebhookEndpoint(await endpoints.getWebhookEndpoint(deps, request.principal.projectId, request.params.webhook_endpoint_id)),
  )

  app.post(
    '/webhook_endpoints/:webhook_endpoint_id',
    {
      schema: {
        summary: 'Update a webhook endpoint',
        tags,
        params: WebhookEndpointIdParams,
        body: UpdateWebhookEndpointRequest,
        response: { 200: WebhookEndpoint, ...errorResponses },
      },
    },
    async (request) =>
      endpoints.toWebhookEndpoint(await endpoints.updateWebhookEndpoint(deps, request.principal.projectId, request.params.webhook_endpoint_id, request.body ?? {})),
  )

  app.delete(
    '/webhook_endpoints/:webhook_endpoint_id',
    { schema: { summary: 'Delete a webhook endpoint', tags, params: WebhookEndpointIdParams, response: { 200: DeletedWebhookEndpoint, ...errorResponses } } },
    async (request) => {
      await endpoints.deleteWebhookEndpoint(deps, request.principal.projectId, request.params.webhook_endpoint_id)
      return { id: request.params.webhook_endpoint_id, object: 'webhook_endpoint.deleted' as const, deleted: true }
    },
  )

  app.post(
    '/webhook_endpoints/:webhook_endpoint_id/rotate_secret',
    {
      schema: {
        summary: 'Rotate the signing secret of a webhook endpoint',
        tags,
        params: WebhookEndpointIdParams,
        body: RotateWebhookSecretRequest,
        response: { 200: WebhookEndpointWithSecret, ...errorResponses },
      },
    },
    async (request) => {
      const keepOldFor24Hours = request.body?.keep_old_secret_active_for_24_hours ?? false
      const row = await endpoints.rotateWebhookSecret(deps, request.principal.projectId, request.params.webhook_endpoint_id, { keepOldFor24Hours })
      return endpoints.toWebhookEndpointWithSecret(row)
    },
  )

  app.post(
    '/webhook_endpoints/:webhook_endpoint_id/test',
    {
      schema: {
        summary: 'Send a test event to a webhook endpoint now',
        tags,
        params: WebhookEndpointIdParams,
        body: TestWebhookEndpointRequest,
        response: { 200: WebhookEndpointTestResult, ...errorResponses },
      },
    },
    async (request) => {
      const eventType = request.body.event_type
      if (!isWebhookEventType(eventType)) {
        throw invalidRequest(`Invalid value for 'event_type': ${eventType} is not sent by this service. Supported: ${WEBHOOK_EVENT_TYPES.join(', ')}.`, 'event_type')
      }
      const endpointId = request.params.webhook_endpoint_id
      const result = await sendTestEvent({ db, transport: { allowHosts, timeoutMs } }, request.principal.projectId, endpointId, eventType)
      if ('error' in result) {
        // No HTTP answer at all: there is no status code to report.
        throw new ApiError(400, `The test event could not be delivered: ${result.error}`, { code: 'webhook_delivery_failed' })
      }
      return {
        object: 'webhook_endpoint.test' as const,
        webhook_endpoint_id: endpointId,
        event_type: eventType,
        status_code: result.statusCode,
        success: true as const,
        delivered: result.outcome === 'delivered',
        outcome: result.outcome,
      }
    },
  )

  app.get(
    '/webhook_endpoints/:webhook_endpoint_id/deliveries',
    {
      schema: {
        summary: "List an endpoint's recent deliveries with their latest attempt (Skillet extension)",
        tags,
        params: WebhookEndpointIdParams,
        querystring: ListWebhookDeliveriesQuery,
        response: { 200: ListWebhookDeliveriesResponse, ...errorResponses },
      },
    },
    async (request) => ({
      object: 'list' as const,
      data: await listRecentDeliveries(deps, request.principal.projectId, request.params.webhook_endpoint_id, request.query.limit),
    }),
  )

  app.get(
    '/webhook_event_types',
    { schema: { summary: 'List the webhook event types this service sends', tags, response: { 200: WebhookEventTypeList, ...errorResponses } } },
    async () => ({ object: 'list' as const, data: [...WEBHOOK_EVENT_TYPES] }),
  )
}

export default webhookEndpointsRoutes

// buildApp wires the HTTP API from its dependencies. It never listens: server.ts does, tests use inject().
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import multipart from '@fastify/multipart'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Logger } from 'pino'
import { randomUUID } from 'node:crypto'
import errors, { clientErrorHandler, frameworkErrors, MAX_PARAM_LENGTH } from './plugins/errors.ts'
import jsonBody from './plugins/json-body.ts'
import refuseNul from './plugins/refuse-nul.ts'
import closeConnections from './plugins/close-connections.ts'
import { buildValidators } from './plugins/validators.ts'
import { buildSerializers } from './plugins/serializers.ts'
import auth from './plugins/auth.ts'
import { ErrorResponse } from './schemas/common.ts'
import { OpenAIFile } from './schemas/files.ts'
import { Upload } from './schemas/uploads.ts'
import { openApiInfo, operationIdFor } from './schemas/openapi-info.ts'
import filesRoutes from './routes/v1/files.ts'
import fineTuningRoutes from './routes/v1/fine-tuning.ts'
import modelsRoutes from './routes/v1/models.ts'
import gradersRoutes from './routes/v1/graders.ts'
import chatCompletionsRoutes from './routes/v1/chat-completions.ts'
import completionsRoutes from './routes/v1/completions.ts'
import trainerRoutes from './routes/internal/trainer.ts'
import { FineTuningJob } from './schemas/fine-tuning.ts'
import uploadsRoutes from './routes/v1/uploads.ts'
import webhookEndpointsRoutes from './routes/v1/webhook-endpoints.ts'
import organizationRoutes from './routes/v1/organization.ts'
import healthRoutes from './routes/health.ts'
import uiRoutes from './routes/ui.ts'
import type { UiBundle } from './ui/build/ui-bundle.ts'
import type { AppServices } from './services/app-services.ts'
import httpMetrics from './metrics/http-metrics.ts'
import type { SkilletMetrics } from './metrics/skillet-metrics.ts'

export interface AppDeps {
  services: AppServices
  logger: Logger
  /** Request and trainer-report metrics; GET /metrics on this port when config.metrics.token is set. */
  metrics?: SkilletMetrics
  /** The web dashboard's bundle, served at `/` (server.ts passes one unless SKILLET_UI=false). */
  ui?: UiBundle
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export async function buildApp({ services, logger, metrics, ui }: AppDeps) {
  const { config } = services
  const app = Fastify({
    loggerInstance: logger,
    // A caller's x-request-id is kept when it is sane; otherwise a new one is made.
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`
    },
    bodyLimit: 4 * 1024 * 1024,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true } },
    schemaController: { compilersFactory: { buildValidator: buildValidators, buildSerializer: buildSerializers } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  await app.register(closeConnections)

  await app.register(errors)
  await app.register(jsonBody)
  app.addHook('onClose', async () => services.inference.engine.close())
  await app.register(httpMetrics, { metrics, token: config.metrics.token })
  if (metrics) services.trainer.onTrainedTokens = (_jobId, tokens) => metrics.tokensTrained(tokens)
  app.addSchema(ErrorResponse)
  app.addSchema(OpenAIFile)
  app.addSchema(FineTuningJob)
  app.addSchema(Upload)

  await app.register(swagger, {
    openapi: openApiInfo,
    // Keep schema names ($id) as component names in the document.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    // Every operation gets an operationId (code generators need one); a route may set its own.
    transform: ({ schema, url, route }) => ({
      schema: { ...schema, operationId: (schema as { operationId?: string } | undefined)?.operationId ?? operationIdFor(String(route.method), url) } as typeof schema,
      url,
    }),
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(healthRoutes, { services })
  if (ui) await app.register(uiRoutes, { bundle: ui })

  await app.register(
    async (v1) => {
      await v1.register(auth, { db: services.database.db })
      await v1.register(refuseNul)
      v1.addHook('onRequest', v1.authenticate)
      await v1.register(rateLimit, {
        hook: 'preHandler',
        max: config.rateLimitPerMinute,
        timeWindow: '1 minute',
        keyGenerator: (request) => request.principal?.keyId ?? request.ip,
        errorResponseBuilder: (_request, context) => ({
          statusCode: 429,
          message: `Rate limit reached: ${context.max} requests per minute. Please try again in ${context.after}.`,
        }),
      })
      await v1.register(multipart, {
        // One byte over the file limit, so our own byte counter (which answers 413) trips first.
        limits: { fileSize: config.maxFileBytes + 1, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 },
      })
      await v1.register(filesRoutes, { services })
      await v1.register(fineTuningRoutes, { deps: services.jobs })
      await v1.register(modelsRoutes, { deps: services.models })
      await v1.register(gradersRoutes, { config: services.config.graders })
      await v1.register(chatCompletionsRoutes, { deps: services.inference })
      await v1.register(completionsRoutes, { deps: services.inference })
      await v1.register(uploadsRoutes, { services })
      await v1.register(webhookEndpointsRoutes, { services })
      await v1.register(organizationRoutes, { db: services.database.db })
    },
    { prefix: '/v1' },
  )
  // The trainer protocol: per-job tokens, no API keys, no rate limit (docs/trainer-protocol.md).
  await app.register(trainerRoutes, { prefix: '/internal/v1', deps: services.trainer })

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>

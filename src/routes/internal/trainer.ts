// /internal/v1/jobs/{id}/… — the trainer protocol (docs/trainer-protocol.md). Not for users: each
// request carries the job's own trainer token, and nothing else opens these routes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { bearerToken } from '../../auth/api-keys.ts'
import { invalidRequest, notFound } from '../../lib/errors.ts'
import { BlobNotFoundError } from '../../storage/blob-store.ts'
import { files } from '../../db/schema/index.ts'
import { eq } from 'drizzle-orm'
import * as reports from '../../reports/trainer-reports.ts'
import type { TrainerDeps } from '../../reports/trainer-reports.ts'
import { jobOutputPrefix } from '../../jobs/trainer-token.ts'
import { CheckpointReportSchema, EventsReportSchema, MetricsReportSchema, StatusReportBodySchema } from '../../protocol/trainer-reports.ts'

const Params = Type.Object({ id: Type.String() })

const trainerRoutes: FastifyPluginAsyncTypebox<{ deps: TrainerDeps }> = async (app, { deps }) => {
  // Blobs arrive as raw bytes and are streamed straight into the blob store.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))

  const trainerJob = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const job = await reports.authenticateTrainer(deps.db, request.params.id, bearerToken(request.headers.authorization) ?? undefined)
    // The job id is on the request log already (src/metrics/http-metrics.ts); the project is known only now.
    request.log = request.log.child({ projectId: job.projectId, attempt: job.attempts })
    return job
  }

  app.get('/jobs/:id', { schema: { hide: true, params: Params } }, async (request) => reports.jobState(deps.db, await trainerJob(request)))

  app.post('/jobs/:id/heartbeat', { schema: { hide: true, params: Params } }, async (request) => reports.heartbeat(deps.db, await trainerJob(request)))

  app.post(
    '/jobs/:id/events',
    {
      schema: { hide: true, params: Params, body: EventsReportSchema },
    },
    async (request) => reports.reportEvents(deps.db, await trainerJob(request), request.body.events),
  )

  app.post(
    '/jobs/:id/metrics',
    {
      schema: { hide: true, params: Params, body: MetricsReportSchema },
    },
    async (request) => reports.reportMetrics(deps.db, await trainerJob(request), request.body, deps.onTrainedTokens),
  )

  app.post(
    '/jobs/:id/checkpoints',
    { schema: { hide: true, params: Params, body: CheckpointReportSchema } },
    async (request) => reports.reportCheckpoint(deps, await trainerJob(request), request.body),
  )

  app.post(
    '/jobs/:id/status',
    {
      schema: { hide: true, params: Params, body: StatusReportBodySchema },
    },
    async (request) => {
      const job = await trainerJob(request)
      const b = request.body
      if (b.status === 'succeeded') return reports.reportStatus(deps, job, { status: 'succeeded', trained_tokens: b.trained_tokens, artifacts: b.artifacts ?? [], ...(b.evaluation ? { evaluation: b.evaluation } : {}), ...(b.speed ? { speed: b.speed } : {}) })
      if (b.status === 'failed') {
        if (!b.error) throw invalidRequest("A failed status needs 'error': {code?, message}.", 'error')
        return reports.reportStatus(deps, job, { status: 'failed', error: b.error })
      }
      return reports.reportStatus(deps, job, { status: 'paused', step: b.step })
    },
  )

  // Checkpoints and artifacts: PUT/GET any key under the job's output prefix (path relative to it).
  app.put('/jobs/:id/blobs/*', { schema: { hide: true } }, async (request: FastifyRequest<{ Params: { id: string; '*': string } }>) => {
    const job = await trainerJob(request)
    const key = `${jobOutputPrefix(job.projectId, job.id)}${request.params['*']}`
    const info = await deps.blobs.put(key, request.body as NodeJS.ReadableStream as never)
    return { key, bytes: info.bytes }
  })

  app.get('/jobs/:id/blobs/*', { schema: { hide: true } }, async (request: FastifyRequest<{ Params: { id: string; '*': string } }>, reply) => {
    const job = await trainerJob(request)
    const key = `${jobOutputPrefix(job.projectId, job.id)}${request.params['*']}`
    try {
      return reply.header('content-type', 'application/octet-stream').send(await deps.blobs.get(key))
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw notFound('blob', key, 'key')
      throw err
    }
  })

  // The job's input files, streamed from the blob store.
  app.get('/jobs/:id/files/:role', { schema: { hide: true } }, async (request: FastifyRequest<{ Params: { id: string; role: string } }>, reply) => {
    const job = await trainerJob(request)
    const fileId = request.params.role === 'training' ? job.trainingFile : request.params.role === 'validation' ? job.validationFile : null
    if (!fileId) throw notFound('file', request.params.role, 'role')
    const [file] = await deps.db.select().from(files).where(eq(files.id, fileId))
    if (!file) throw notFound('File', fileId, 'role')
    return reply.header('content-type', 'application/octet-stream').send(await deps.blobs.get(file.blobKey))
  })
}

export default trainerRoutes

// /v1/fine_tuning/jobs — OpenAI's fine-tuning jobs API. Thin handlers over services/fine-tuning-jobs.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../../schemas/common.ts'
import { CreateFineTuningJobRequest, JobIdParams, ListCheckpointsResponse, ListEventsResponse, ListJobsQuery, ListJobsResponse, PageQuery } from '../../schemas/fine-tuning.ts'
import { toFineTuningJob } from '../../jobs/job-object.ts'
import * as jobs from '../../services/fine-tuning-jobs.ts'
import type { JobsDeps } from '../../services/fine-tuning-jobs.ts'

const job = { 200: Type.Ref('FineTuningJob'), ...errorResponses }

/** `metadata[key]=value` query parameters, as the SDK sends the metadata filter. */
function metadataFilter(query: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(query)) {
    const m = /^metadata\[(.+)\]$/.exec(k)
    if (m && typeof v === 'string') out[m[1]] = v
  }
  return out
}

const fineTuningRoutes: FastifyPluginAsyncTypebox<{ deps: JobsDeps }> = async (app, { deps }) => {
  const tags = ['Fine-tuning']
  const caller = (request: { principal: { projectId: string; projectName: string } }) => request.principal

  app.post('/fine_tuning/jobs', { schema: { summary: 'Create a fine-tuning job', tags, body: CreateFineTuningJobRequest, response: job } }, async (request) =>
    toFineTuningJob(await jobs.createJob(deps, caller(request), request.body)),
  )

  app.get('/fine_tuning/jobs', { schema: { summary: 'List fine-tuning jobs', tags, querystring: ListJobsQuery, response: { 200: ListJobsResponse, ...errorResponses } } }, async (request) => {
    const { after, limit } = request.query
    const { data, hasMore } = await jobs.listJobs(deps, request.principal.projectId, { after, limit, metadata: metadataFilter(request.query) })
    return { object: 'list' as const, data: data.map(toFineTuningJob), has_more: hasMore }
  })

  app.get('/fine_tuning/jobs/:fine_tuning_job_id', { schema: { summary: 'Retrieve a fine-tuning job', tags, params: JobIdParams, response: job } }, async (request) =>
    toFineTuningJob(await jobs.getJob(deps, request.principal.projectId, request.params.fine_tuning_job_id)),
  )

  for (const [action, run] of [
    ['cancel', jobs.cancelJob],
    ['pause', jobs.pauseJob],
    ['resume', jobs.resumeJob],
  ] as const) {
    app.post(`/fine_tuning/jobs/:fine_tuning_job_id/${action}`, { schema: { summary: `${action[0].toUpperCase()}${action.slice(1)} a fine-tuning job`, tags, params: JobIdParams, response: job } }, async (request) =>
      toFineTuningJob(await run(deps, request.principal.projectId, request.params.fine_tuning_job_id)),
    )
  }

  app.get(
    '/fine_tuning/jobs/:fine_tuning_job_id/events',
    { schema: { summary: 'List fine-tuning events', tags, params: JobIdParams, querystring: PageQuery(20), response: { 200: ListEventsResponse, ...errorResponses } } },
    async (request) => {
      const { data, hasMore } = await jobs.listEvents(deps, request.principal.projectId, request.params.fine_tuning_job_id, request.query)
      return { object: 'list' as const, data: data.map(jobs.toJobEvent), has_more: hasMore }
    },
  )

  app.get(
    '/fine_tuning/jobs/:fine_tuning_job_id/checkpoints',
    { schema: { summary: 'List fine-tuning checkpoints', tags, params: JobIdParams, querystring: PageQuery(10), response: { 200: ListCheckpointsResponse, ...errorResponses } } },
    async (request) => {
      const { data, hasMore } = await jobs.listCheckpoints(deps, request.principal.projectId, request.params.fine_tuning_job_id, request.query)
      return { object: 'list' as const, data: data.map(jobs.toJobCheckpoint), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore }
    },
  )
}

export default fineTuningRoutes

// OpenAI's alpha graders API:
//   POST /v1/fine_tuning/alpha/graders/validate  check a grader
//   POST /v1/fine_tuning/alpha/graders/run       score one model sample (and dataset item) with it
// Graders live in src/graders/ (one file per type), shared with evaluations.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { GradersConfig } from '../../config/index.ts'
import { parseGrader } from '../../graders/parse-grader.ts'
import { runGrader } from '../../graders/run-grader.ts'
import { gradingContext } from '../../graders/template.ts'
import { errorResponses } from '../../schemas/common.ts'
import { RunGraderRequest, RunGraderResponse, ValidateGraderRequest, ValidateGraderResponse } from '../../schemas/graders.ts'

const gradersRoutes: FastifyPluginAsyncTypebox<{ config: GradersConfig }> = async (app, { config }) => {
  const tags = ['Graders']
  const options = { modelGraders: config.modelUrl !== undefined }
  const modelEndpoint = config.modelUrl ? { url: config.modelUrl, apiKey: config.modelApiKey, timeoutMs: config.modelTimeoutMs } : undefined

  app.post(
    '/fine_tuning/alpha/graders/validate',
    { schema: { summary: 'Validate a grader', tags, body: ValidateGraderRequest, response: { 200: ValidateGraderResponse, ...errorResponses } } },
    async (request) => {
      parseGrader(request.body.grader, options)
      return { grader: request.body.grader }
    },
  )

  app.post(
    '/fine_tuning/alpha/graders/run',
    { schema: { summary: 'Run a grader', tags, body: RunGraderRequest, response: { 200: RunGraderResponse, ...errorResponses } } },
    async (request) => {
      const grader = parseGrader(request.body.grader, options)
      return runGrader(grader, gradingContext(request.body.item, request.body.model_sample), { modelEndpoint })
    },
  )
}

export default gradersRoutes

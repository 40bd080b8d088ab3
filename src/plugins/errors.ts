// Turns every failure into OpenAI's error envelope with the right status. Bad input is never a 5xx.
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../lib/errors.ts'

interface ValidationIssue {
  instancePath?: string
  keyword?: string
  message?: string
  params?: Record<string, unknown>
}

/** The dotted field name a schema validation error is about, e.g. "method.supervised.hyperparameters.n_epochs". */
export function paramOf(issue: ValidationIssue): string | null {
  const parts = (issue.instancePath ?? '').split('/').filter(Boolean)
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty
  if (typeof missing === 'string') parts.push(missing)
  return parts.length > 0 ? parts.join('.') : null
}

function describe(issue: ValidationIssue, context: string | undefined): string {
  const param = paramOf(issue)
  if (issue.keyword === 'required') return `Missing required parameter: '${param}'.`
  if (issue.keyword === 'additionalProperties') return `Unrecognized request argument supplied: ${param}`
  const where = param ? `'${param}'` : context === 'body' ? 'the request body' : `the ${context ?? 'request'}`
  return `Invalid value for ${where}: ${issue.message ?? 'invalid'}.`
}

/** Maps framework errors (validation, body parsing, limits) onto ApiError. */
export function toApiError(err: FastifyError & { validation?: ValidationIssue[]; validationContext?: string }): ApiError {
  if (err instanceof ApiError) return err
  if (err.validation && err.validation.length > 0) {
    const issue = err.validation[0]
    return new ApiError(400, describe(issue, err.validationContext), { param: paramOf(issue) })
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
      return new ApiError(413, err.message, { code: 'request_too_large' })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ApiError(415, `Unsupported Content-Type: ${err.message}`, { code: 'unsupported_media_type' })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'The request body is empty; expected a JSON object.')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, `We could not parse the JSON body of your request. (${err.message})`)
  }
  if (err.statusCode === 429) return new ApiError(429, err.message, { type: 'requests', code: 'rate_limit_exceeded' })
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message)
  return new ApiError(500, 'The server had an error while processing your request. Sorry about that!')
}

export default fp(
  async function errors(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const apiError = toApiError(err)
      if (apiError.status >= 500) request.log.error({ err }, 'request failed')
      else request.log.info({ status: apiError.status, code: apiError.code, param: apiError.param }, apiError.message)
      return reply.status(apiError.status).headers(apiError.headers).send(apiError.toBody())
    })
    app.setNotFoundHandler((request, reply) => {
      const e = new ApiError(404, `Invalid URL (${request.method} ${request.url.split('?')[0]})`)
      return reply.status(404).send(e.toBody())
    })
  },
  { name: 'skillet-errors' },
)

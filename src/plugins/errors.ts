// Turns every failure into OpenAI's error envelope with the right status. Bad input is never a 5xx.
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
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

/** The router's limit on one path parameter (Fastify's maxParamLength). */
export const MAX_PARAM_LENGTH = 512

/** Errors busboy (the multipart parser) raises on a body it cannot parse; it gives them no code. */
const MALFORMED_MULTIPART = /^(Multipart: Boundary not found|Boundary required|Unexpected end of multipart data|\w+ terminated early due to unexpected end of multipart data|Malformed part header)$/

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
      return new ApiError(413, err.message, { code: 'request_too_large' })
    case 'FST_FILES_LIMIT':
      return new ApiError(400, 'One file expected: the multipart body has more than one file part.', { code: 'invalid_multipart' })
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ApiError(400, `The multipart body has too many parts (${err.message}).`, { code: 'invalid_multipart' })
    case 'FST_PROTO_VIOLATION':
      return new ApiError(400, `Invalid multipart field name: ${err.message}.`, { code: 'invalid_multipart' })
    case 'FST_MP_PREMATURE_CLOSE':
      return new ApiError(400, 'The multipart body ended before its closing boundary.', { code: 'invalid_multipart' })
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, err.message)
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(414, `A path parameter is longer than the limit of ${MAX_PARAM_LENGTH} characters.`, { code: 'uri_too_long' })
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ApiError(415, `${err.message}. Send JSON bodies with Content-Type: application/json, and files as multipart/form-data.`, { code: 'unsupported_media_type' })
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'The request body is empty; expected a JSON object.')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, `We could not parse the JSON body of your request. (${err.message})`)
  }
  if (MALFORMED_MULTIPART.test(err.message)) return new ApiError(400, `Malformed multipart body: ${err.message}.`, { code: 'invalid_multipart' })
  if (err.statusCode === 429) return new ApiError(429, err.message, { type: 'requests', code: 'rate_limit_exceeded' })
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message)
  return new ApiError(500, 'The server had an error while processing your request. Sorry about that!')
}

function sendError(request: FastifyRequest, reply: FastifyReply, err: FastifyError) {
  const apiError = toApiError(err)
  if (apiError.status >= 500) request.log.error({ err }, 'request failed')
  else request.log.info({ status: apiError.status, code: apiError.code, param: apiError.param }, apiError.message)
  return reply.status(apiError.status).headers(apiError.headers).send(apiError.toBody())
}

/** Fastify's `frameworkErrors` option: errors raised before routing (bad %-escape, path parameter too long). */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return sendError(request, reply, err)
}

const CLIENT_ERRORS: Record<string, { status: number; message: string; code: string | null }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'The request headers are too large (the limit is 16 KiB, request line included).', code: 'request_header_fields_too_large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive.', code: 'request_timeout' },
}

/**
 * Fastify's `clientErrorHandler` option: Node's HTTP parser refused the request before Fastify saw it
 * (headers over the limit, malformed HTTP). The answer is still OpenAI's envelope, written on the socket.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex) {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return socket.destroy()
  const known = CLIENT_ERRORS[err.code ?? '']
  const apiError = new ApiError(known?.status ?? 400, known?.message ?? 'The request is not valid HTTP.', { code: known?.code ?? 'invalid_http_request' })
  const body = JSON.stringify(apiError.toBody())
  socket.end(
    `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

export default fp(
  async function errors(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError, request, reply) => sendError(request, reply, err))
    app.setNotFoundHandler((request, reply) => {
      const e = new ApiError(404, `Invalid URL (${request.method} ${request.url.split('?')[0]})`)
      return reply.status(404).send(e.toBody())
    })
  },
  { name: 'skillet-errors' },
)

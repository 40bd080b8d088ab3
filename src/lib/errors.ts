// OpenAI's error envelope: {"error": {"message", "type", "param", "code"}} with all four keys.
// Every failure a client can see is an ApiError; anything else becomes a 500 without details.

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null }
}

export class ApiError extends Error {
  readonly status: number
  readonly type: string
  readonly param: string | null
  readonly code: string | null
  readonly headers: Record<string, string>

  constructor(
    status: number,
    message: string,
    opts: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.type = opts.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error')
    this.param = opts.param ?? null
    this.code = opts.code ?? null
    this.headers = opts.headers ?? {}
  }

  toBody(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } }
  }
}

/** 400: the request is wrong; `param` names the offending field. */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, { param, code })
}

/** 404 in OpenAI's words, e.g. "No such File object: file-abc". */
export function notFound(objectName: string, id: string, param = 'id'): ApiError {
  return new ApiError(404, `No such ${objectName} object: ${id}`, { param, code: null })
}

export function unauthorized(message: string): ApiError {
  return new ApiError(401, message, { code: 'invalid_api_key' })
}

export function payloadTooLarge(message: string, param: string | null = null): ApiError {
  return new ApiError(413, message, { param, code: 'file_too_large' })
}

export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(415, message, { code: 'unsupported_media_type' })
}

/** 403: the key is valid but may not do this (e.g. an admin route called with a member key). */
export function forbidden(message: string): ApiError {
  return new ApiError(403, message, { code: 'insufficient_permissions' })
}

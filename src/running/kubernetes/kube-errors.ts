// Reading the HTTP status out of @kubernetes/client-node's errors (ApiException carries `code`).
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code ?? (err as { statusCode?: unknown }).statusCode
  return typeof code === 'number' ? code : undefined
}

export const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404
export const isAlreadyExists = (err: unknown): boolean => httpStatusOf(err) === 409

/** The API server's own message (from its Status body), which says what is wrong far better than "HTTP-Code: 422". */
export function apiServerMessage(err: unknown): string | undefined {
  let body = (err as { body?: unknown } | null)?.body
  if (typeof body === 'string') {
    const text = body
    try {
      body = JSON.parse(text)
    } catch {
      return text
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message
  return typeof message === 'string' ? message : undefined
}

/** An API error with the status code kept and the API server's message up front. */
export class KubernetesApiError extends Error {
  readonly code: number | undefined
  constructor(action: string, cause: unknown) {
    super(`${action}: ${apiServerMessage(cause) ?? (cause instanceof Error ? cause.message : String(cause))}`, { cause })
    this.name = 'KubernetesApiError'
    this.code = httpStatusOf(cause)
  }
}

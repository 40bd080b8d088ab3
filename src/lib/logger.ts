// JSON logs (pino). Secrets never reach them, by three rules applied to every line:
// - authorization headers and token-like fields are censored (redact paths);
// - requests are logged without their query string, and errors without the parameters of a
//   failed query (drizzle puts them in the error's message and `params`; pg's `detail` quotes values);
// - as a last net, anything shaped like a Skillet secret (API key `sk-…`, trainer token `sktr_…`,
//   webhook signing secret `whsec_…`) is replaced on the way out, whatever carried it.
import pino, { type DestinationStream, type Logger } from 'pino'

const SECRET = /\b(sk-|sktr_|whsec_)[A-Za-z0-9+/=_-]{6,}/g

/** Replaces every secret-shaped token in a serialized log line. */
export function censorSecrets(line: string): string {
  return line.replace(SECRET, '$1[redacted]')
}

/** "Failed query: … \nparams: …" → the query alone (the parameters are values: secrets, user data). */
function withoutParams(text: string): string {
  return text.replace(/\nparams: [\s\S]*?(?=\n\s+at |$)/, '\n(parameters not logged)')
}

/** pino's error serializer, minus query parameters and value-quoting details, down the cause chain. */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>
  return scrub(out, 0)
}

function scrub(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (key === 'params' || key === 'detail' || key === 'parameters') continue
    if ((key === 'message' || key === 'stack') && typeof item === 'string') out[key] = withoutParams(item)
    else if (key === 'cause' && item && typeof item === 'object' && depth < 5) out[key] = scrub(item as Record<string, unknown>, depth + 1)
    else out[key] = item
  }
  return out
}

/** A request as logged: method and path, never the query string. */
export function serializeRequest(req: { method?: string; url?: string; ip?: string; host?: string }) {
  return { method: req.method, url: (req.url ?? '').split('?')[0], host: req.host, remoteAddress: req.ip }
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'apiKey', 'key', 'secret', 'signing_secret', '*.token', '*.secret'],
      censor: '[redacted]',
    },
    serializers: { err: serializeError, error: serializeError, req: serializeRequest },
    hooks: { streamWrite: censorSecrets },
  }
  return destination ? pino(options, destination) : pino(options)
}

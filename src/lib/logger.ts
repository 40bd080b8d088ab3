import pino, { type Logger } from 'pino'

/** JSON logs. Secrets never reach them: authorization headers and token-like fields are censored. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', 'apiKey', 'key', 'secret', 'signing_secret', '*.token', '*.secret'],
      censor: '[redacted]',
    },
  })
}

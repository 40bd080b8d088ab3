/** The top of the OpenAPI document served at /openapi.json and committed as openapi/openapi.json. */
export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'Skillet API',
    version: '0.1.0',
    description: 'Self-hosted, OpenAI-compatible fine-tuning: Files, Uploads, Fine-tuning jobs, Models, Webhooks.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  // The document is served by the API itself (GET /openapi.json): its paths are relative to that server.
  servers: [{ url: '/', description: 'The Skillet server that serves this document' }],
  components: { securitySchemes: { bearerAuth: { type: 'http' as const, scheme: 'bearer' } } },
  security: [{ bearerAuth: [] }],
}

/**
 * The operationId of a route without one: its method and path in camelCase, path parameters as
 * "By…" (GET /v1/fine_tuning/jobs/{fine_tuning_job_id}/events → getFineTuningJobsByFineTuningJobIdEvents).
 */
export function operationIdFor(method: string, url: string): string {
  const parts = url
    .split('/')
    .filter((s) => s !== '' && s !== 'v1')
    .map((s) => (s.startsWith(':') ? `by_${s.slice(1)}` : s.startsWith('{') ? `by_${s.slice(1, -1)}` : s))
  const words = [method.toLowerCase(), ...parts].join('_').split(/[^A-Za-z0-9]+/).filter(Boolean)
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1))).join('')
}

/** The top of the OpenAPI document served at /openapi.json and committed as openapi/openapi.json. */
export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'Skillet API',
    version: '0.1.0',
    description: 'Self-hosted, OpenAI-compatible fine-tuning: Files, Uploads, Fine-tuning jobs, Models, Webhooks.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  servers: [{ url: 'http://localhost:8080' }],
  components: { securitySchemes: { bearerAuth: { type: 'http' as const, scheme: 'bearer' } } },
  security: [{ bearerAuth: [] }],
}

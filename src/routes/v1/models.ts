// /v1/models — OpenAI's models API, plus the artifacts extension:
//   GET /v1/models/{id}/artifacts          list a fine-tuned or checkpoint model's files
//   GET /v1/models/{id}/artifacts/{name}   download one, streamed from the blob store
// (names and blob layout: docs/model-artifacts.md)
// Model ids contain ':' and may contain '/', so the routes take the rest of the path and split it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../../schemas/common.ts'
import * as models from '../../services/models.ts'
import type { ModelsDeps } from '../../services/models.ts'
import { artifactContentType } from '../../models/artifact-names.ts'

const Model = Type.Object({ id: Type.String(), object: Type.Literal('model'), created: Type.Integer(), owned_by: Type.String() })

/**
 * "{id}", "{id}/artifacts" or "{id}/artifacts/{name}", where a name may have one folder
 * ("adapter/adapter_config.json"). Model ids never contain "/artifacts".
 */
export function parseModelPath(path: string): { id: string; artifacts: false } | { id: string; artifacts: true; name?: string } {
  const at = path.indexOf('/artifacts')
  if (at > 0) {
    const rest = path.slice(at + '/artifacts'.length)
    if (rest === '') return { id: path.slice(0, at), artifacts: true }
    if (rest.startsWith('/') && rest.length > 1) return { id: path.slice(0, at), artifacts: true, name: rest.slice(1) }
  }
  return { id: path, artifacts: false }
}

const modelsRoutes: FastifyPluginAsyncTypebox<{ deps: ModelsDeps }> = async (app, { deps }) => {
  const tags = ['Models']
  app.get('/models', { schema: { summary: 'List models', tags, response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) }), ...errorResponses } } }, async (request) => ({
    object: 'list' as const,
    data: await models.listModels(deps, request.principal.projectId),
  }))

  app.get('/models/*', { schema: { summary: 'Retrieve a model, or list or download its artifacts', tags, params: Type.Object({ '*': Type.String() }) } }, async (request, reply) => {
    const path = parseModelPath(request.params['*'])
    const projectId = request.principal.projectId
    if (!path.artifacts) return models.getModel(deps, projectId, path.id)
    if (path.name === undefined) {
      const rows = await models.listArtifacts(deps, projectId, path.id)
      return { object: 'list', data: rows.map(models.toArtifact) }
    }
    const { row, body } = await models.openArtifact(deps, projectId, path.id, path.name)
    return reply
      .header('content-type', artifactContentType(row.name))
      .header('content-length', String(row.bytes))
      .header('content-disposition', `attachment; filename="${row.name.split('/').at(-1)}"`)
      .send(body)
  })

  app.delete(
    '/models/*',
    { schema: { summary: 'Delete a fine-tuned model', tags, params: Type.Object({ '*': Type.String() }), response: { 200: Type.Object({ id: Type.String(), object: Type.Literal('model'), deleted: Type.Boolean() }), ...errorResponses } } },
    async (request) => {
      await models.deleteModel(deps, request.principal.projectId, request.params['*'])
      return { id: request.params['*'], object: 'model' as const, deleted: true }
    },
  )
}

export default modelsRoutes

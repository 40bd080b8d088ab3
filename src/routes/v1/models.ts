// /v1/models — OpenAI's models API, plus the artifacts extension:
//   GET /v1/models/{id}/artifacts          list a fine-tuned or checkpoint model's files
//   GET /v1/models/{id}/artifacts/{name}   download one, streamed from the blob store
//   GET /v1/models/{id}/artifacts/archive  all of them as one .tar
// (names and blob layout: docs/model-artifacts.md)
// Model ids contain ':' (one path segment, documented as {model}); base model ids may contain '/':
// hidden catch-all routes take the rest of the path and split it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { Type } from 'typebox'
import { errorResponses } from '../../schemas/common.ts'
import * as models from '../../services/models.ts'
import type { ModelsDeps } from '../../services/models.ts'
import { ARCHIVE, artifactContentType } from '../../models/artifact-names.ts'
import { modelArchive } from '../../services/model-archive.ts'

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

const ModelParams = Type.Object({ model: Type.String({ description: "A model id; fine-tuned and checkpoint ids contain ':' (ft:BASE:PROJECT:SUFFIX:ID)." }) })
const Artifact = Type.Object({ object: Type.Literal('model.artifact'), name: Type.String(), bytes: Type.Integer(), created_at: Type.Integer(), content_type: Type.String() })
const ArtifactList = Type.Object({ object: Type.Literal('list'), data: Type.Array(Artifact) })
const Deleted = Type.Object({ id: Type.String(), object: Type.Literal('model'), deleted: Type.Boolean() })

/** The path a model route documents: `{*}` is no OpenAPI path; the artifact name is `{name}` (it may hold one '/'). */
const artifactDocPath = () => ({ url: '/v1/models/{model}/artifacts/{name}' })

const modelsRoutes: FastifyPluginAsyncTypebox<{ deps: ModelsDeps }> = async (app, { deps }) => {
  const tags = ['Models']
  app.get('/models', { schema: { summary: 'List models', tags, response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) }), ...errorResponses } } }, async (request) => ({
    object: 'list' as const,
    data: await models.listModels(deps, request.principal.projectId),
  }))

  const retrieve = (projectId: string, id: string) => models.getModel(deps, projectId, id)
  const list = async (projectId: string, id: string) => ({ object: 'list' as const, data: (await models.listArtifacts(deps, projectId, id)).map(models.toArtifact) })
  const archive = async (projectId: string, id: string, reply: FastifyReply) => {
    const tar = await modelArchive(deps, projectId, id)
    return reply.header('content-type', 'application/x-tar').header('content-disposition', `attachment; filename="${tar.filename}"`).send(tar.body)
  }
  const download = async (projectId: string, id: string, name: string, reply: FastifyReply) => {
    if (name === ARCHIVE) return archive(projectId, id, reply)
    const { row, body } = await models.openArtifact(deps, projectId, id, name)
    return reply
      .header('content-type', artifactContentType(row.name))
      .header('content-length', String(row.bytes))
      .header('content-disposition', `attachment; filename="${row.name.split('/').at(-1)}"`)
      .send(body)
  }
  const remove = async (projectId: string, id: string) => {
    await models.deleteModel(deps, projectId, id)
    return { id, object: 'model' as const, deleted: true }
  }

  // The documented routes: a model id is one path segment (ft: ids are: their parts are joined by ':').
  app.get('/models/:model', { schema: { summary: 'Retrieve a model', tags, params: ModelParams, response: { 200: Model, ...errorResponses } } }, async (request) =>
    retrieve(request.principal.projectId, request.params.model),
  )
  app.get(
    '/models/:model/artifacts',
    { schema: { summary: "List a fine-tuned model's artifacts (Skillet extension)", tags, params: ModelParams, response: { 200: ArtifactList, ...errorResponses } } },
    async (request) => list(request.principal.projectId, request.params.model),
  )
  app.get(
    '/models/:model/artifacts/archive',
    {
      schema: {
        summary: 'Download the whole model folder as one .tar (Skillet extension)',
        tags,
        params: ModelParams,
        response: { 200: Type.String({ format: 'binary' }), ...errorResponses },
      },
    },
    async (request, reply) => archive(request.principal.projectId, request.params.model, reply),
  )
  app.get(
    '/models/:model/artifacts/*',
    {
      schema: {
        summary: 'Download one artifact (Skillet extension)',
        operationId: 'getModelsByModelArtifactsByName',
        tags,
        params: Type.Object({ model: ModelParams.properties.model, '*': Type.String() }),
        response: { 200: Type.String({ format: 'binary' }), ...errorResponses },
      },
      config: {
        swaggerTransform: ({ schema }) => ({
          ...artifactDocPath(),
          schema: { ...schema, params: Type.Object({ model: ModelParams.properties.model, name: Type.String({ description: "An artifact name; may hold one folder, e.g. 'adapter/adapter_config.json'." }) }) },
        }),
      },
    },
    async (request, reply) => download(request.principal.projectId, request.params.model, request.params['*'], reply),
  )
  app.delete('/models/:model', { schema: { summary: 'Delete a fine-tuned model', tags, params: ModelParams, response: { 200: Deleted, ...errorResponses } } }, async (request) =>
    remove(request.principal.projectId, request.params.model),
  )

  // Base model ids may contain '/' (org/name): those reach these, which split the rest of the path.
  const rest = { schema: { hide: true, params: Type.Object({ '*': Type.String() }) } }
  app.get('/models/*', rest, async (request, reply) => {
    const path = parseModelPath(request.params['*'])
    const projectId = request.principal.projectId
    if (!path.artifacts) return retrieve(projectId, path.id)
    if (path.name === undefined) return list(projectId, path.id)
    return download(projectId, path.id, path.name, reply)
  })
  app.delete('/models/*', rest, async (request) => remove(request.principal.projectId, request.params['*']))
}

export default modelsRoutes

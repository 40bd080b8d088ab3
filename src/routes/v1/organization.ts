// /v1/organization/projects… — admin routes for projects and API keys, so keys can be created and
// revoked on a live server. Only admin keys may call them: a member key gets 403 in the envelope,
// before its request is even validated.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { forbidden, invalidRequest, notFound } from '../../lib/errors.ts'
import {
  CreateProjectApiKeyRequest,
  CreateProjectRequest,
  DeletedProjectApiKey,
  Project,
  ProjectApiKey,
  ProjectApiKeyList,
  ProjectApiKeyParams,
  ProjectApiKeyWithValue,
  ProjectIdParams,
  ProjectList,
} from '../../schemas/admin.ts'
import { errorResponses } from '../../schemas/common.ts'
import type { Db } from '../../db/database.ts'
import {
  countActiveAdminKeys,
  createApiKey,
  ensureProject,
  findProject,
  findProjectKey,
  listProjectKeys,
  listProjects,
  revokeApiKey,
  type ApiKeyRow,
  type ProjectRow,
} from '../../services/projects.ts'

const tags = ['Administration']
const responses = { ...errorResponses, 403: Type.Ref('ErrorResponse') }

function toProject(row: ProjectRow) {
  return { id: row.id, object: 'organization.project' as const, name: row.name, created_at: row.createdAt, status: 'active' as const }
}

function toApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    object: 'organization.project.api_key' as const,
    name: row.name,
    redacted_value: `sk-…${row.keyHint}`,
    created_at: row.createdAt,
    is_admin: row.isAdmin,
    revoked_at: row.revokedAt ?? null,
  }
}

function list<T extends { id: string }>(data: T[]) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false }
}

async function projectOr404(db: Db, projectId: string): Promise<ProjectRow> {
  const project = await findProject(db, projectId)
  if (!project) throw notFound('Project', projectId, 'project_id')
  return project
}

const organizationRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.addHook('onRequest', async (request) => {
    if (!request.principal.isAdmin) {
      throw forbidden('This request needs an admin API key: projects and API keys are managed by admins only.')
    }
  })

  app.get('/organization/projects', { schema: { summary: 'List projects (admin)', tags, response: { 200: ProjectList, ...responses } } }, async () =>
    list((await listProjects(db)).map(toProject)),
  )

  app.post(
    '/organization/projects',
    { schema: { summary: 'Create a project (admin)', tags, body: CreateProjectRequest, response: { 200: Project, ...responses } } },
    async (request) => {
      const existing = (await listProjects(db)).find((p) => p.name === request.body.name)
      if (existing) throw invalidRequest(`A project named '${request.body.name}' already exists (${existing.id}).`, 'name', 'project_exists')
      await ensureProject(db, request.body.name)
      const created = (await listProjects(db)).find((p) => p.name === request.body.name)
      if (!created) throw new Error(`project ${request.body.name} vanished after insert`)
      return toProject(created)
    },
  )

  app.get(
    '/organization/projects/:project_id',
    { schema: { summary: 'Retrieve a project (admin)', tags, params: ProjectIdParams, response: { 200: Project, ...responses } } },
    async (request) => toProject(await projectOr404(db, request.params.project_id)),
  )

  app.get(
    '/organization/projects/:project_id/api_keys',
    { schema: { summary: "List a project's API keys (admin)", tags, params: ProjectIdParams, response: { 200: ProjectApiKeyList, ...responses } } },
    async (request) => {
      const project = await projectOr404(db, request.params.project_id)
      return list((await listProjectKeys(db, project.id)).map(toApiKey))
    },
  )

  app.post(
    '/organization/projects/:project_id/api_keys',
    {
      schema: {
        summary: 'Create an API key (admin; Skillet extension). The key is in `value`, returned only now.',
        tags,
        params: ProjectIdParams,
        body: CreateProjectApiKeyRequest,
        response: { 200: ProjectApiKeyWithValue, ...responses },
      },
      // Every field is optional: no body at all means the defaults.
      preValidation: async (request) => {
        request.body ??= {}
      },
    },
    async (request, reply) => {
      const project = await projectOr404(db, request.params.project_id)
      const body = request.body
      const created = await createApiKey(db, { project: project.name, name: body.name, isAdmin: body.is_admin ?? false })
      const row = await findProjectKey(db, project.id, created.id)
      if (!row) throw new Error(`key ${created.id} vanished after insert`)
      // The secret must not be cached anywhere on the way back.
      reply.header('cache-control', 'no-store')
      return { ...toApiKey(row), value: created.key }
    },
  )

  app.get(
    '/organization/projects/:project_id/api_keys/:key_id',
    { schema: { summary: 'Retrieve an API key (admin)', tags, params: ProjectApiKeyParams, response: { 200: ProjectApiKey, ...responses } } },
    async (request) => {
      const project = await projectOr404(db, request.params.project_id)
      const row = await findProjectKey(db, project.id, request.params.key_id)
      if (!row) throw notFound('ProjectApiKey', request.params.key_id, 'key_id')
      return toApiKey(row)
    },
  )

  app.delete(
    '/organization/projects/:project_id/api_keys/:key_id',
    {
      schema: {
        summary: 'Revoke an API key (admin). It stops working within 5 seconds on every replica.',
        tags,
        params: ProjectApiKeyParams,
        response: { 200: DeletedProjectApiKey, ...responses },
      },
    },
    async (request) => {
      const project = await projectOr404(db, request.params.project_id)
      const row = await findProjectKey(db, project.id, request.params.key_id)
      if (!row || row.revokedAt !== null) throw notFound('ProjectApiKey', request.params.key_id, 'key_id')
      if (row.isAdmin && (await countActiveAdminKeys(db)) <= 1) {
        throw invalidRequest('This is the last active admin key: create another admin key before revoking it.', 'key_id', 'last_admin_key')
      }
      await revokeApiKey(db, row.id)
      return { id: row.id, object: 'organization.project.api_key.deleted' as const, deleted: true as const }
    },
  )
}

export default organizationRoutes

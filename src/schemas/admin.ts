// Admin routes for projects and their API keys, in the shapes of OpenAI's administration API
// (`/v1/organization/projects…`), plus Skillet's key creation (OpenAI makes keys only in its dashboard).
import { Type } from 'typebox'
import { CursorList, Unixtime } from './common.ts'

export const Project = Type.Object({
  id: Type.String(),
  object: Type.Literal('organization.project'),
  name: Type.String(),
  created_at: Unixtime,
  status: Type.Literal('active'),
})

export const ProjectList = CursorList(Project)

export const CreateProjectRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Letters, digits, ".", "_" and "-".' }),
})

export const ProjectIdParams = Type.Object({ project_id: Type.String({ maxLength: 128 }) })
export const ProjectApiKeyParams = Type.Object({ project_id: Type.String({ maxLength: 128 }), key_id: Type.String({ maxLength: 128 }) })

const apiKeyProperties = {
  id: Type.String(),
  object: Type.Literal('organization.project.api_key'),
  name: Type.String(),
  redacted_value: Type.String({ description: '"sk-…" and the last four characters: enough to recognise a key, never to use it.' }),
  created_at: Unixtime,
  is_admin: Type.Boolean({ description: 'Skillet extension: admin keys may call these routes.' }),
  revoked_at: Type.Union([Unixtime, Type.Null()], { description: 'Skillet extension: when the key was revoked (revoked keys stay listed).' }),
}

export const ProjectApiKey = Type.Object(apiKeyProperties)

export const ProjectApiKeyWithValue = Type.Object({
  ...apiKeyProperties,
  value: Type.String({ description: 'The secret key. Returned only by create: it is stored as a hash.' }),
})

export const ProjectApiKeyList = CursorList(ProjectApiKey)

export const CreateProjectApiKeyRequest = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  is_admin: Type.Optional(Type.Boolean({ default: false })),
})

export const DeletedProjectApiKey = Type.Object({
  id: Type.String(),
  object: Type.Literal('organization.project.api_key.deleted'),
  deleted: Type.Literal(true),
})

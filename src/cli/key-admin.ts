// What `skillet keys …` does, two ways: straight on the database (no server running), or through a
// running server's admin routes (/v1/organization/projects…) when that server holds the embedded data
// dir — PGlite allows one process, so the CLI cannot open it beside the server.
import OpenAI from 'openai'
import type { Db } from '../db/database.ts'
import { createApiKey, listApiKeys, revokeApiKey } from '../services/projects.ts'

export interface KeyListing {
  id: string
  project: string
  name: string
  hint: string
  isAdmin: boolean
  revoked: boolean
}

export interface KeyAdmin {
  create(opts: { project: string; name?: string; isAdmin: boolean }): Promise<{ id: string; key: string }>
  list(project?: string): Promise<KeyListing[]>
  /** False when there is no active key with this id. */
  revoke(keyId: string): Promise<boolean>
}

export function databaseKeyAdmin(db: Db): KeyAdmin {
  return {
    create: (opts) => createApiKey(db, opts),
    list: async (project) =>
      (await listApiKeys(db, project)).map((k) => ({ id: k.id, project: k.project, name: k.name, hint: k.hint, isAdmin: k.isAdmin, revoked: k.revokedAt !== null })),
    revoke: (keyId) => revokeApiKey(db, keyId),
  }
}

interface ProjectBody { id: string; name: string }
interface KeyBody { id: string; name: string; redacted_value: string; is_admin: boolean; revoked_at: number | null; value?: string }
interface ListBody<T> { data: T[] }

/** The same commands through a running server, authenticated with an admin key. */
export function httpKeyAdmin(baseURL: string, adminKey: string): KeyAdmin {
  const client = new OpenAI({ baseURL, apiKey: adminKey, maxRetries: 0, timeout: 30_000 })
  const projects = async () => (await client.get<ListBody<ProjectBody>>('/organization/projects')).data
  const keysOf = async (p: ProjectBody) => (await client.get<ListBody<KeyBody>>(`/organization/projects/${p.id}/api_keys`)).data
  return {
    async create({ project, name, isAdmin }) {
      const found = (await projects()).find((p) => p.name === project) ?? (await client.post<ProjectBody>('/organization/projects', { body: { name: project } }))
      const created = await client.post<KeyBody>(`/organization/projects/${found.id}/api_keys`, { body: { ...(name ? { name } : {}), is_admin: isAdmin } })
      return { id: created.id, key: created.value ?? '' }
    },
    async list(project) {
      const out: KeyListing[] = []
      for (const p of (await projects()).filter((p) => !project || p.name === project)) {
        for (const k of await keysOf(p)) out.push({ id: k.id, project: p.name, name: k.name, hint: k.redacted_value.slice(-4), isAdmin: k.is_admin, revoked: k.revoked_at !== null })
      }
      return out
    },
    async revoke(keyId) {
      for (const p of await projects()) {
        const key = (await keysOf(p)).find((k) => k.id === keyId && k.revoked_at === null)
        if (key) {
          await client.delete(`/organization/projects/${p.id}/api_keys/${keyId}`)
          return true
        }
      }
      return false
    },
  }
}

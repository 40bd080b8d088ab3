// Projects and their API keys. Every resource belongs to a project; a key authenticates as its project.
import { and, asc, count, eq, getTableColumns, isNull } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { apiKeys, projects } from '../db/schema/index.ts'
import { generateApiKey, hashApiKey } from '../auth/api-keys.ts'
import { newId, unixNow } from '../lib/ids.ts'

export const DEFAULT_PROJECT = 'default'

export interface Principal {
  projectId: string
  projectName: string
  keyId: string
  isAdmin: boolean
}

export async function ensureProject(db: Db, name: string): Promise<{ id: string; name: string }> {
  const existing = await db.select().from(projects).where(eq(projects.name, name))
  if (existing[0]) return existing[0]
  const row = { id: newId.project(), name, createdAt: unixNow() }
  await db.insert(projects).values(row).onConflictDoNothing()
  const [saved] = await db.select().from(projects).where(eq(projects.name, name))
  return saved
}

/** Creates a key for a project (creating the project if needed); returns the secret once. */
export async function createApiKey(
  db: Db,
  opts: { project: string; name?: string; isAdmin?: boolean; secret?: string },
): Promise<{ id: string; key: string; projectId: string }> {
  const project = await ensureProject(db, opts.project)
  const key = opts.secret ?? generateApiKey()
  const id = newId.apiKey()
  await db.insert(apiKeys).values({
    id,
    projectId: project.id,
    name: opts.name ?? 'default',
    keyHash: hashApiKey(key),
    keyHint: key.slice(-4),
    isAdmin: opts.isAdmin ?? false,
    createdAt: unixNow(),
  })
  return { id, key, projectId: project.id }
}

export async function revokeApiKey(db: Db, keyId: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: unixNow() })
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id })
  return rows.length > 0
}

export async function listApiKeys(db: Db, projectName?: string) {
  const rows = await db
    .select({
      id: apiKeys.id,
      project: projects.name,
      name: apiKeys.name,
      hint: apiKeys.keyHint,
      isAdmin: apiKeys.isAdmin,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
  return projectName ? rows.filter((r) => r.project === projectName) : rows
}

/** The principal a secret key authenticates as, or null for unknown or revoked keys. */
export async function findPrincipal(db: Db, key: string): Promise<Principal | null> {
  const rows = await db
    .select({ keyId: apiKeys.id, isAdmin: apiKeys.isAdmin, projectId: projects.id, projectName: projects.name })
    .from(apiKeys)
    .innerJoin(projects, eq(projects.id, apiKeys.projectId))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt)))
  return rows[0] ?? null
}

/**
 * Makes sure the default project has an admin key. With SKILLET_API_KEY set, that key is registered
 * (idempotently). Without it, a key is generated the first time and returned so the caller prints it once.
 */
export async function bootstrapAdminKey(db: Db, configured: string | undefined): Promise<{ generated: string | null }> {
  if (configured) {
    if (!(await findPrincipal(db, configured))) {
      await createApiKey(db, { project: DEFAULT_PROJECT, name: 'bootstrap (SKILLET_API_KEY)', isAdmin: true, secret: configured })
    }
    return { generated: null }
  }
  const project = await ensureProject(db, DEFAULT_PROJECT)
  const existing = await db.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.projectId, project.id), eq(apiKeys.isAdmin, true)))
  if (existing.length > 0) return { generated: null }
  const { key } = await createApiKey(db, { project: DEFAULT_PROJECT, name: 'bootstrap (generated)', isAdmin: true })
  return { generated: key }
}

export type ProjectRow = typeof projects.$inferSelect
export type ApiKeyRow = Omit<typeof apiKeys.$inferSelect, 'keyHash'>

export async function listProjects(db: Db): Promise<ProjectRow[]> {
  return db.select().from(projects).orderBy(asc(projects.createdAt), asc(projects.name))
}

export async function findProject(db: Db, projectId: string): Promise<ProjectRow | null> {
  const rows = await db.select().from(projects).where(eq(projects.id, projectId))
  return rows[0] ?? null
}

/** A project's keys, oldest first, revoked ones included (they show when they were revoked). */
export async function listProjectKeys(db: Db, projectId: string): Promise<ApiKeyRow[]> {
  const { keyHash: _hash, ...columns } = getTableColumns(apiKeys)
  return db.select(columns).from(apiKeys).where(eq(apiKeys.projectId, projectId)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
}

export async function findProjectKey(db: Db, projectId: string, keyId: string): Promise<ApiKeyRow | null> {
  const rows = await listProjectKeys(db, projectId)
  return rows.find((k) => k.id === keyId) ?? null
}

/** How many unrevoked admin keys exist, in every project: the last one may not be revoked. */
export async function countActiveAdminKeys(db: Db): Promise<number> {
  const rows = await db.select({ n: count() }).from(apiKeys).where(and(eq(apiKeys.isAdmin, true), isNull(apiKeys.revokedAt)))
  return Number(rows[0]?.n ?? 0)
}

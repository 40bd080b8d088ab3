// GET/DELETE /v1/models: the deployment's base models, and the caller's fine-tuned models and
// checkpoint models. A fine-tuned model's artifacts are downloadable and go when it is deleted.
import type { Readable } from 'node:stream'
import { and, desc, eq, inArray } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { blobGarbage, fineTunedModels, fineTuningJobs, jobCheckpoints, modelArtifacts } from '../db/schema/index.ts'
import { invalidRequest, notFound } from '../lib/errors.ts'
import { unixNow } from '../lib/ids.ts'
import { BASE_MODEL_OWNER, isBaseModel } from '../models/base-models.ts'
import type { BaseModelSource } from '../config/index.ts'

export interface ModelsDeps {
  db: Db
  blobs: BlobStore
  baseModels: Record<string, BaseModelSource>
  /** When the base models were configured: their `created`. */
  startedAt: number
}

export interface ModelObject {
  id: string
  object: 'model'
  created: number
  owned_by: string
}

export async function listModels(deps: ModelsDeps, projectId: string): Promise<ModelObject[]> {
  const base = Object.keys(deps.baseModels).map((id) => ({ id, object: 'model' as const, created: deps.startedAt, owned_by: BASE_MODEL_OWNER }))
  const tuned = await deps.db.select().from(fineTunedModels).where(eq(fineTunedModels.projectId, projectId)).orderBy(desc(fineTunedModels.createdAt))
  // Checkpoint models of jobs that succeeded (their fine-tuned model exists, or existed).
  const checkpoints = await deps.db
    .select({ id: jobCheckpoints.modelId, created: jobCheckpoints.createdAt })
    .from(jobCheckpoints)
    .innerJoin(fineTuningJobs, eq(fineTuningJobs.id, jobCheckpoints.jobId))
    .where(and(eq(jobCheckpoints.projectId, projectId), eq(fineTuningJobs.status, 'succeeded')))
    .orderBy(desc(jobCheckpoints.createdAt))
  return [
    ...base,
    ...tuned.map((m) => ({ id: m.id, object: 'model' as const, created: m.createdAt, owned_by: projectId })),
    ...checkpoints.map((c) => ({ id: c.id, object: 'model' as const, created: c.created, owned_by: projectId })),
  ]
}

export async function getModel(deps: ModelsDeps, projectId: string, id: string): Promise<ModelObject> {
  if (isBaseModel(deps, id)) return { id, object: 'model', created: deps.startedAt, owned_by: BASE_MODEL_OWNER }
  const [tuned] = await deps.db.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId)))
  if (tuned) return { id, object: 'model', created: tuned.createdAt, owned_by: projectId }
  const [ckpt] = await deps.db
    .select({ created: jobCheckpoints.createdAt })
    .from(jobCheckpoints)
    .innerJoin(fineTuningJobs, eq(fineTuningJobs.id, jobCheckpoints.jobId))
    .where(and(eq(jobCheckpoints.modelId, id), eq(jobCheckpoints.projectId, projectId), eq(fineTuningJobs.status, 'succeeded')))
  if (ckpt) return { id, object: 'model', created: ckpt.created, owned_by: projectId }
  throw modelNotFound(id)
}

function modelNotFound(id: string) {
  const e = notFound('Model', id, 'model')
  return Object.assign(e, { message: `The model '${id}' does not exist or you do not have access to it.`, code: 'model_not_found' })
}

/** Deletes a fine-tuned model and its artifacts. Base models cannot be deleted (400, as OpenAI refuses). */
export async function deleteModel(deps: ModelsDeps, projectId: string, id: string): Promise<void> {
  if (isBaseModel(deps, id)) throw invalidRequest(`The base model '${id}' cannot be deleted; only fine-tuned models can.`, 'model', 'model_not_deletable')
  const keys = await deps.db.transaction(async (tx) => {
    const [tuned] = await tx.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId))).for('update')
    if (!tuned) throw modelNotFound(id)
    const artifacts = await tx.select({ blobKey: modelArtifacts.blobKey }).from(modelArtifacts).where(eq(modelArtifacts.modelId, id))
    await tx.delete(fineTunedModels).where(eq(fineTunedModels.id, id)) // artifacts cascade
    if (artifacts.length > 0) await tx.insert(blobGarbage).values(artifacts.map((a) => ({ blobKey: a.blobKey, createdAt: unixNow() }))).onConflictDoNothing()
    return artifacts.map((a) => a.blobKey)
  })
  // Best effort now; what fails stays queued for the maintenance sweeper.
  for (const key of keys) {
    await deps.blobs.delete(key).then(
      () => deps.db.delete(blobGarbage).where(inArray(blobGarbage.blobKey, [key])),
      () => {},
    )
  }
}

export type ArtifactRow = typeof modelArtifacts.$inferSelect

export async function listArtifacts(deps: ModelsDeps, projectId: string, id: string): Promise<ArtifactRow[]> {
  const [tuned] = await deps.db.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId)))
  if (!tuned) throw modelNotFound(id)
  return deps.db.select().from(modelArtifacts).where(eq(modelArtifacts.modelId, id)).orderBy(modelArtifacts.name)
}

export async function openArtifact(deps: ModelsDeps, projectId: string, id: string, name: string): Promise<{ row: ArtifactRow; body: Readable }> {
  const artifacts = await listArtifacts(deps, projectId, id)
  const row = artifacts.find((a) => a.name === name)
  if (!row) throw notFound('artifact', name, 'name')
  return { row, body: await deps.blobs.get(row.blobKey) }
}

export function toArtifact(row: ArtifactRow) {
  return { object: 'model.artifact' as const, name: row.name, bytes: row.bytes, created_at: row.createdAt }
}

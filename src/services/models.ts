// GET/DELETE /v1/models: the deployment's base models, and the caller's fine-tuned models and
// checkpoint models. A fine-tuned model's artifacts are downloadable and go when it is deleted,
// with its checkpoint models. Which model an id names: src/models/model-lookup.ts.
import type { Readable } from 'node:stream'
import { and, desc, eq, inArray } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { blobGarbage, checkpointArtifacts, fineTunedModels, jobCheckpoints, modelArtifacts } from '../db/schema/index.ts'
import { artifactContentType } from '../models/artifact-names.ts'
import { checkpointModels, findCheckpoint, findModel, listArtifacts, modelNotFound, type ArtifactRow, type FoundModel } from '../models/model-lookup.ts'
import { invalidRequest, notFound } from '../lib/errors.ts'
import { unixNow } from '../lib/ids.ts'
import { BASE_MODEL_OWNER, isBaseModel } from '../models/base-models.ts'

export { findModel, listArtifacts, type ArtifactRow }
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

const toModelObject = (m: FoundModel): ModelObject => ({ id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy })

export async function listModels(deps: ModelsDeps, projectId: string): Promise<ModelObject[]> {
  const base = Object.keys(deps.baseModels).map((id) => ({ id, object: 'model' as const, created: deps.startedAt, owned_by: BASE_MODEL_OWNER }))
  const tuned = await deps.db.select().from(fineTunedModels).where(eq(fineTunedModels.projectId, projectId)).orderBy(desc(fineTunedModels.createdAt))
  const checkpoints = await checkpointModels(deps.db).where(eq(fineTunedModels.projectId, projectId)).orderBy(desc(jobCheckpoints.createdAt))
  return [
    ...base,
    ...tuned.map((m) => ({ id: m.id, object: 'model' as const, created: m.createdAt, owned_by: projectId })),
    ...checkpoints.map((c) => ({ id: c.id, object: 'model' as const, created: c.created, owned_by: projectId })),
  ]
}

export async function getModel(deps: ModelsDeps, projectId: string, id: string): Promise<ModelObject> {
  return toModelObject(await findModel(deps, projectId, id))
}

/**
 * Deletes a fine-tuned model, its checkpoint models and all their artifacts. Base models cannot be
 * deleted (400, as OpenAI refuses), nor a checkpoint model alone (it goes with its fine-tuned model).
 */
export async function deleteModel(deps: ModelsDeps, projectId: string, id: string): Promise<void> {
  if (isBaseModel(deps, id)) throw invalidRequest(`The base model '${id}' cannot be deleted; only fine-tuned models can.`, 'model', 'model_not_deletable')
  const keys = await deps.db.transaction(async (tx) => {
    const [tuned] = await tx.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId))).for('update')
    if (!tuned) {
      const ckpt = await findCheckpoint(tx, projectId, id)
      if (ckpt) throw invalidRequest(`'${id}' is a checkpoint of '${ckpt.parent}': it is deleted with that model.`, 'model', 'model_not_deletable')
      throw modelNotFound(id)
    }
    const artifacts = await tx.select({ blobKey: modelArtifacts.blobKey }).from(modelArtifacts).where(eq(modelArtifacts.modelId, id))
    const checkpointIds = tx.select({ id: jobCheckpoints.id }).from(jobCheckpoints).where(eq(jobCheckpoints.jobId, tuned.jobId))
    const ckptArtifacts = await tx.delete(checkpointArtifacts).where(inArray(checkpointArtifacts.checkpointId, checkpointIds)).returning({ blobKey: checkpointArtifacts.blobKey })
    await tx.delete(fineTunedModels).where(eq(fineTunedModels.id, id)) // its artifacts cascade
    const all = [...artifacts, ...ckptArtifacts].map((a) => a.blobKey)
    if (all.length > 0) await tx.insert(blobGarbage).values(all.map((blobKey) => ({ blobKey, createdAt: unixNow() }))).onConflictDoNothing()
    return all
  })
  // Best effort now; what fails stays queued for the maintenance sweeper.
  for (const key of keys) {
    await deps.blobs.delete(key).then(
      () => deps.db.delete(blobGarbage).where(inArray(blobGarbage.blobKey, [key])),
      () => {},
    )
  }
}

export async function openArtifact(deps: ModelsDeps, projectId: string, id: string, name: string): Promise<{ row: ArtifactRow; body: Readable }> {
  const artifacts = await listArtifacts(deps, projectId, id)
  const row = artifacts.find((a) => a.name === name)
  if (!row) throw notFound('artifact', name, 'name')
  return { row, body: await deps.blobs.get(row.blobKey) }
}

export function toArtifact(row: ArtifactRow) {
  return { object: 'model.artifact' as const, name: row.name, bytes: row.bytes, created_at: row.createdAt, content_type: artifactContentType(row.name) }
}

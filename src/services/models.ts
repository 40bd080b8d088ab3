// GET/DELETE /v1/models: the deployment's base models, and the caller's fine-tuned models and
// checkpoint models. A fine-tuned model's artifacts are downloadable and go when it is deleted.
import type { Readable } from 'node:stream'
import { and, desc, eq, inArray } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { blobGarbage, checkpointArtifacts, fineTunedModels, jobCheckpoints, modelArtifacts } from '../db/schema/index.ts'
import { artifactContentType, isGgufName } from '../models/artifact-names.ts'
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

/** A model the caller can use: a base model, a fine-tuned model, or a checkpoint model of one. */
export interface FoundModel {
  id: string
  kind: 'base' | 'fine-tuned' | 'checkpoint'
  /** The base model it was trained from (a base model: itself). */
  baseModel: string
  /** For a checkpoint model: its fine-tuned model; for a fine-tuned model: itself. */
  parent: string | null
  created: number
  ownedBy: string
}

// A checkpoint model exists while its job's fine-tuned model does: it goes when that is deleted.
const checkpointModels = (db: Pick<Db, 'select'>) =>
  db
    .select({ id: jobCheckpoints.modelId, checkpointId: jobCheckpoints.id, created: jobCheckpoints.createdAt, parent: fineTunedModels.id, baseModel: fineTunedModels.baseModel })
    .from(jobCheckpoints)
    .innerJoin(fineTunedModels, eq(fineTunedModels.jobId, jobCheckpoints.jobId))

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

async function findCheckpoint(db: Pick<Db, 'select'>, projectId: string, id: string) {
  const [ckpt] = await checkpointModels(db).where(and(eq(jobCheckpoints.modelId, id), eq(fineTunedModels.projectId, projectId)))
  return ckpt
}

/** The model `id` as the caller's project sees it; 404 model_not_found otherwise (another project's model too). */
export async function findModel(deps: ModelsDeps, projectId: string, id: string): Promise<FoundModel> {
  if (isBaseModel(deps, id)) return { id, kind: 'base', baseModel: id, parent: null, created: deps.startedAt, ownedBy: BASE_MODEL_OWNER }
  const [tuned] = await deps.db.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId)))
  if (tuned) return { id, kind: 'fine-tuned', baseModel: tuned.baseModel, parent: id, created: tuned.createdAt, ownedBy: projectId }
  const ckpt = await findCheckpoint(deps.db, projectId, id)
  if (ckpt) return { id, kind: 'checkpoint', baseModel: ckpt.baseModel, parent: ckpt.parent, created: ckpt.created, ownedBy: projectId }
  throw modelNotFound(id)
}

export async function getModel(deps: ModelsDeps, projectId: string, id: string): Promise<ModelObject> {
  return toModelObject(await findModel(deps, projectId, id))
}

export function modelNotFound(id: string) {
  const e = notFound('Model', id, 'model')
  return Object.assign(e, { message: `The model '${id}' does not exist or you do not have access to it.`, code: 'model_not_found' })
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

export type ArtifactRow = Omit<typeof modelArtifacts.$inferSelect, 'modelId'>

/** The artifacts of a fine-tuned or checkpoint model, by name; 404 for other models. */
export async function listArtifacts(deps: ModelsDeps, projectId: string, id: string): Promise<ArtifactRow[]> {
  const columns = { name: modelArtifacts.name, blobKey: modelArtifacts.blobKey, bytes: modelArtifacts.bytes, createdAt: modelArtifacts.createdAt }
  const [tuned] = await deps.db.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId)))
  if (tuned) return deps.db.select(columns).from(modelArtifacts).where(eq(modelArtifacts.modelId, id)).orderBy(modelArtifacts.name)
  const ckpt = await findCheckpoint(deps.db, projectId, id)
  if (!ckpt) throw modelNotFound(id)
  return deps.db
    .select({ name: checkpointArtifacts.name, blobKey: checkpointArtifacts.blobKey, bytes: checkpointArtifacts.bytes, createdAt: checkpointArtifacts.createdAt })
    .from(checkpointArtifacts)
    .where(eq(checkpointArtifacts.checkpointId, ckpt.checkpointId))
    .orderBy(checkpointArtifacts.name)
}

/** The model's GGUF among its artifacts (a top-level `*.gguf`), if it has one. */
export function ggufArtifact(rows: ArtifactRow[]): ArtifactRow | undefined {
  return rows.find((r) => isGgufName(r.name))
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

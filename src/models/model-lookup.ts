// Which model an id names for the caller's project — a base model, one of its fine-tuned models, or
// a checkpoint model of one — and that model's artifacts (docs/model-artifacts.md). Another
// project's model is 404 model_not_found exactly like an unknown one. Shared by /v1/models, jobs that
// continue from a fine-tuned model, and serving.
import { and, eq } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { checkpointArtifacts, fineTunedModels, jobCheckpoints, modelArtifacts } from '../db/schema/index.ts'
import { notFound } from '../lib/errors.ts'
import { isGgufName } from './artifact-names.ts'
import { BASE_MODEL_OWNER, isBaseModel, type BaseModelDeps } from './base-models.ts'

export interface LookupDeps {
  db: Db
  baseModels: BaseModelDeps['baseModels']
  /** When the base models were configured: their `created`. */
  startedAt: number
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
export const checkpointModels = (db: Pick<Db, 'select'>) =>
  db
    .select({ id: jobCheckpoints.modelId, checkpointId: jobCheckpoints.id, created: jobCheckpoints.createdAt, parent: fineTunedModels.id, baseModel: fineTunedModels.baseModel })
    .from(jobCheckpoints)
    .innerJoin(fineTunedModels, eq(fineTunedModels.jobId, jobCheckpoints.jobId))

export async function findCheckpoint(db: Pick<Db, 'select'>, projectId: string, id: string) {
  const [ckpt] = await checkpointModels(db).where(and(eq(jobCheckpoints.modelId, id), eq(fineTunedModels.projectId, projectId)))
  return ckpt
}

/** The model `id` as the caller's project sees it; 404 model_not_found otherwise (another project's model too). */
export async function findModel(deps: LookupDeps, projectId: string, id: string): Promise<FoundModel> {
  if (isBaseModel(deps, id)) return { id, kind: 'base', baseModel: id, parent: null, created: deps.startedAt, ownedBy: BASE_MODEL_OWNER }
  const [tuned] = await deps.db.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId)))
  if (tuned) return { id, kind: 'fine-tuned', baseModel: tuned.baseModel, parent: id, created: tuned.createdAt, ownedBy: projectId }
  const ckpt = await findCheckpoint(deps.db, projectId, id)
  if (ckpt) return { id, kind: 'checkpoint', baseModel: ckpt.baseModel, parent: ckpt.parent, created: ckpt.created, ownedBy: projectId }
  throw modelNotFound(id)
}

export function modelNotFound(id: string) {
  const e = notFound('Model', id, 'model')
  return Object.assign(e, { message: `The model '${id}' does not exist or you do not have access to it.`, code: 'model_not_found' })
}

export type ArtifactRow = Omit<typeof modelArtifacts.$inferSelect, 'modelId'>

/** The artifacts of a fine-tuned or checkpoint model, by name; 404 for other models. */
export async function listArtifacts(deps: Pick<LookupDeps, 'db'>, projectId: string, id: string): Promise<ArtifactRow[]> {
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


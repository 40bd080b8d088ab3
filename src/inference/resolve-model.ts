// Which model a Chat Completions / Completions request names, for the caller's project:
// a base model, the project's fine-tuned model, or one of its checkpoint models. Another
// project's model answers exactly like an unknown one (404 model_not_found); a model whose
// files are not (yet) servable is a 400.
import { and, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import { fineTunedModels, fineTuningJobs, jobCheckpoints, modelArtifacts } from '../db/schema/index.ts'
import { ApiError, invalidRequest } from '../lib/errors.ts'
import { isBaseModel, type BaseModelDeps } from '../models/base-models.ts'
import { baseModelGguf } from './base-model-gguf.ts'
import { chooseGguf } from './gguf-choice.ts'
import type { ServedModel } from './served-model.ts'

export type ResolveDeps = BaseModelDeps & { log: Logger; workDir: string }

export function modelNotFound(id: string): ApiError {
  return new ApiError(404, `The model '${id}' does not exist or you do not have access to it.`, { param: 'model', code: 'model_not_found' })
}

function notServable(id: string, why: string): ApiError {
  return invalidRequest(`The model '${id}' cannot be served yet: ${why}.`, 'model', 'model_not_ready')
}

const dirOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1)

export async function resolveModel(deps: ResolveDeps, projectId: string, id: string): Promise<ServedModel> {
  if (isBaseModel(deps, id)) return { id, baseModel: id, adapterPrefix: null, ggufKey: () => baseModelGguf(deps, id) }

  const [tuned] = await deps.db.select().from(fineTunedModels).where(and(eq(fineTunedModels.id, id), eq(fineTunedModels.projectId, projectId)))
  if (tuned) {
    const artifacts = await deps.db.select().from(modelArtifacts).where(eq(modelArtifacts.modelId, id))
    const gguf = chooseGguf(artifacts.map((a) => a.name))
    const adapter = artifacts.find((a) => a.name === 'adapter_config.json')
    if (!gguf) throw notServable(id, 'it has no GGUF artifact (the job exported none)')
    const ggufKey = artifacts.find((a) => a.name === gguf)!.blobKey
    return { id, baseModel: tuned.baseModel, adapterPrefix: adapter ? dirOf(adapter.blobKey) : null, ggufKey: async () => ggufKey }
  }

  const [ckpt] = await deps.db
    .select({ prefix: jobCheckpoints.blobPrefix, baseModel: fineTuningJobs.model, status: fineTuningJobs.status })
    .from(jobCheckpoints)
    .innerJoin(fineTuningJobs, eq(fineTuningJobs.id, jobCheckpoints.jobId))
    .where(and(eq(jobCheckpoints.modelId, id), eq(jobCheckpoints.projectId, projectId)))
  if (!ckpt || ckpt.status !== 'succeeded') throw modelNotFound(id)
  const blobs = await deps.blobs.list(ckpt.prefix)
  const names = blobs.map((b) => b.key.slice(ckpt.prefix.length))
  const gguf = chooseGguf(names)
  if (!gguf) throw notServable(id, 'this checkpoint has no GGUF export')
  const adapter = names.find((n) => n.endsWith('adapter_config.json'))
  return { id, baseModel: ckpt.baseModel, adapterPrefix: adapter ? dirOf(ckpt.prefix + adapter) : null, ggufKey: async () => ckpt.prefix + gguf }
}

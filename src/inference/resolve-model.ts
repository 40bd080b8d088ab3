// Which model a Chat Completions / Completions request names, for the caller's project:
// a base model, the project's fine-tuned model, or one of its checkpoint models. Another
// project's model answers exactly like an unknown one (404 model_not_found); a model whose
// files are not (yet) servable is a 400.
import type { Logger } from 'pino'
import { type ApiError, invalidRequest } from '../lib/errors.ts'
import { isGgufName } from '../models/artifact-names.ts'
import { isBaseModel, type BaseModelDeps } from '../models/base-models.ts'
import { findModel, listArtifacts } from '../models/model-lookup.ts'
import { baseModelGguf } from './base-model-gguf.ts'
import { chooseGguf } from './gguf-choice.ts'
import type { ServedModel } from './served-model.ts'

export type ResolveDeps = BaseModelDeps & { log: Logger; workDir: string }

function notServable(id: string, why: string): ApiError {
  return invalidRequest(`The model '${id}' cannot be served yet: ${why}.`, 'model', 'model_not_ready')
}

const dirOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1)

export async function resolveModel(deps: ResolveDeps, projectId: string, id: string): Promise<ServedModel> {
  if (isBaseModel(deps, id)) return { id, baseModel: id, adapterPrefix: null, ggufKey: () => baseModelGguf(deps, id) }
  // A fine-tuned model or a checkpoint model of one (docs/model-artifacts.md); 404 model_not_found otherwise.
  const found = await findModel({ ...deps, startedAt: 0 }, projectId, id)
  const artifacts = await listArtifacts(deps, projectId, id)
  const gguf = chooseGguf(artifacts.map((a) => a.name).filter(isGgufName))
  if (!gguf) throw notServable(id, found.kind === 'checkpoint' ? 'this checkpoint has no GGUF export' : 'it has no GGUF artifact (the job exported none)')
  const ggufKey = artifacts.find((a) => a.name === gguf)!.blobKey
  // Models exported before the adapter/ folder have a flat adapter_config.json.
  const adapter = artifacts.find((a) => a.name === 'adapter/adapter_config.json' || a.name === 'adapter_config.json')
  return { id, baseModel: found.baseModel, adapterPrefix: adapter ? dirOf(adapter.blobKey) : null, ggufKey: async () => ggufKey }
}

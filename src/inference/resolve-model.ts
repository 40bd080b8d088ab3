// Which model a Chat Completions / Completions request names, for the caller's project: a base
// model, the project's fine-tuned model or one of its checkpoint models (the shared model lookup
// finds them; another project's model is a 404 model_not_found like an unknown one). A model is
// served from its GGUF artifact (embedded engine) or its LoRA adapter (vLLM); without the file the
// engine needs, the request is a 400 model_not_ready.
import type { Logger } from 'pino'
import { type ApiError, invalidRequest } from '../lib/errors.ts'
import type { BaseModelDeps } from '../models/base-models.ts'
import { findModel, ggufArtifact, listArtifacts, type LookupDeps } from '../models/model-lookup.ts'
import { baseModelGguf } from './base-model-gguf.ts'
import type { ServedModel } from './served-model.ts'

export type ResolveDeps = BaseModelDeps & LookupDeps & { log: Logger; workDir: string }

function notServable(id: string, why: string): ApiError {
  return invalidRequest(`The model '${id}' cannot be served yet: ${why}.`, 'model', 'model_not_ready')
}

const dirOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1)

export async function resolveModel(deps: ResolveDeps, projectId: string, id: string): Promise<ServedModel> {
  const found = await findModel(deps, projectId, id)
  if (found.kind === 'base') return { id, baseModel: id, adapterPrefix: null, ggufKey: () => baseModelGguf(deps, id) }
  const artifacts = await listArtifacts(deps, projectId, id)
  const gguf = ggufArtifact(artifacts)
  // Models exported before the adapter/ folder have a flat adapter_config.json.
  const adapter = artifacts.find((a) => a.name === 'adapter/adapter_config.json' || a.name === 'adapter_config.json')
  return {
    id,
    baseModel: found.baseModel,
    adapterPrefix: adapter ? dirOf(adapter.blobKey) : null,
    // Only the embedded engine needs the GGUF (a remote vLLM serves the adapter).
    ggufKey: async () => gguf?.blobKey ?? Promise.reject(notServable(id, found.kind === 'checkpoint' ? 'this checkpoint has no GGUF export' : 'it has no GGUF artifact (the job exported none)')),
  }
}

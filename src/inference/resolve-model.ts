// Which model a Chat Completions / Completions request names, for the caller's project: a base
// model, the project's fine-tuned model or one of its checkpoint models (src/services/models.ts
// finds them; another project's model is a 404 model_not_found like an unknown one). A model is
// served from its GGUF artifact (embedded engine) or its LoRA adapter (vLLM); without the file
// the engine needs, the request is a 400 model_not_ready.
import type { Logger } from 'pino'
import { invalidRequest } from '../lib/errors.ts'
import type { BaseModelDeps } from '../models/base-models.ts'
import { findModel, ggufArtifact, listArtifacts, type ModelsDeps } from '../services/models.ts'
import { baseModelGguf } from './base-model-gguf.ts'
import type { ServedModel } from './served-model.ts'

export type ResolveDeps = BaseModelDeps & ModelsDeps & { log: Logger; workDir: string }

function notServable(id: string, why: string) {
  return invalidRequest(`The model '${id}' cannot be served yet: ${why}.`, 'model', 'model_not_ready')
}

const dirOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1)

export async function resolveModel(deps: ResolveDeps, projectId: string, id: string): Promise<ServedModel> {
  const found = await findModel(deps, projectId, id)
  if (found.kind === 'base') return { id, baseModel: id, adapterPrefix: null, ggufKey: () => baseModelGguf(deps, id) }
  const artifacts = await listArtifacts(deps, projectId, id)
  const gguf = ggufArtifact(artifacts)
  // "adapter/adapter_config.json" (or a flat "adapter_config.json" from older jobs).
  const adapter = artifacts.find((a) => a.name === 'adapter_config.json' || a.name.endsWith('/adapter_config.json'))
  return {
    id,
    baseModel: found.baseModel,
    adapterPrefix: adapter ? dirOf(adapter.blobKey) : null,
    // Only the embedded engine needs the GGUF (a remote vLLM serves the adapter).
    ggufKey: async () => gguf?.blobKey ?? Promise.reject(notServable(id, `this ${found.kind === 'checkpoint' ? 'checkpoint' : 'model'} has no GGUF artifact`)),
  }
}

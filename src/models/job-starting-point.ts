// What a fine-tuning job starts from. `model` is a base model, or — as OpenAI allows — one of the
// project's fine-tuned or checkpoint models (`ft:…`, `ft:…:ckpt-step-N`): the job then trains on
// that model's base, its LoRA adapter starting from that model's adapter.
import { invalidRequest } from '../lib/errors.ts'
import type { TrainerJobSpec } from '../protocol/trainer-job-spec.ts'
import { findModel, listArtifacts, type LookupDeps } from './model-lookup.ts'

const ADAPTER_CONFIG = 'adapter/adapter_config.json'
const ADAPTER_WEIGHTS = 'adapter/adapter_model.safetensors'

export interface StartingPoint {
  /** The base model the job trains (a base model id). */
  baseModel: string
  /** The adapter to start from, when `model` is a fine-tuned or checkpoint model. */
  initAdapter: TrainerJobSpec['initAdapter']
}

/**
 * Where a job on `model` starts, for the caller's project; a clear 400 when it cannot be trained
 * from (unknown, another project's, no adapter, a base model no longer configured, or DPO).
 */
export async function jobStartingPoint(deps: Pick<LookupDeps, 'db' | 'baseModels'>, projectId: string, model: string, method: 'supervised' | 'dpo'): Promise<StartingPoint> {
  if (Object.hasOwn(deps.baseModels, model)) return { baseModel: model, initAdapter: undefined }
  const available = `Available base models: ${Object.keys(deps.baseModels).join(', ')}; or one of your fine-tuned models.`
  const found = await findModel({ ...deps, startedAt: 0 }, projectId, model).catch(() => null)
  if (!found) throw invalidRequest(`Model '${model}' is not available for fine-tuning. ${available}`, 'model', 'model_not_found')
  if (!Object.hasOwn(deps.baseModels, found.baseModel)) {
    throw invalidRequest(`Model '${model}' was trained on '${found.baseModel}', which this deployment no longer offers. ${available}`, 'model', 'model_not_available')
  }
  if (method === 'dpo') {
    // DPO's reference policy is the model with its adapter off: from a fine-tuned model that would be the base, not the model itself.
    throw invalidRequest(`DPO cannot start from a fine-tuned model yet; start it from the base model '${found.baseModel}'.`, 'model', 'model_not_available')
  }
  const artifacts = await listArtifacts(deps, projectId, model)
  const config = artifacts.find((a) => a.name === ADAPTER_CONFIG)
  const weights = artifacts.find((a) => a.name === ADAPTER_WEIGHTS)
  if (!config || !weights) throw invalidRequest(`Model '${model}' has no LoRA adapter to continue from.`, 'model', 'model_not_available')
  return { baseModel: found.baseModel, initAdapter: { model, configKey: config.blobKey, weightsKey: weights.blobKey } }
}

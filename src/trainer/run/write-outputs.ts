// Writes what a finished run produced: the PEFT adapter (LoRA and DPO runs), the merged model in
// Hugging Face format (base weights with the adapter folded in, or the fully fine-tuned weights)
// and a llama.cpp GGUF of the merged model. Shared by both command lines.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { exportGguf, type GgufFileType } from '../export/gguf.ts'
import { mergeLora } from '../export/merge-lora.ts'
import { writeMergedModel } from '../export/merged-model.ts'
import { writePeftAdapter } from '../export/peft-adapter.ts'
import type { LoadedModel } from '../io/load-model.ts'
import type { HostTensors } from '../model/types.ts'
import type { TrainResult } from '../train/trainer.ts'

export interface OutputRequest {
  /** The PEFT adapter, into DIR/adapter (ignored for full fine-tuning, which has none). */
  adapter: boolean
  /** The merged model, into DIR/model. */
  merged: boolean
  /** GGUFs of the merged model, DIR/model-{type}.gguf (one per type; none for an empty list). */
  gguf: GgufFileType[]
  /** general.name in the GGUF. */
  name?: string
}

export interface WrittenOutputs {
  adapterDir: string | null
  modelDir: string | null
  ggufPaths: string[]
}

/** The model's weights after training: base + adapter merged, or the trained weights themselves. */
async function mergedWeights(model: LoadedModel, result: TrainResult): Promise<HostTensors> {
  return result.lora ? mergeLora(model.config, model.weights, await result.lora.toHost()) : result.weights.toHost()
}

export async function writeOutputs(dir: string, model: LoadedModel, result: TrainResult, request: OutputRequest): Promise<WrittenOutputs> {
  const out: WrittenOutputs = { adapterDir: null, modelDir: null, ggufPaths: [] }
  if (request.adapter && result.lora) {
    out.adapterDir = join(dir, 'adapter')
    await writePeftAdapter(out.adapterDir, model.config, await result.lora.toHost(), model.dir)
  }
  if (!request.merged && request.gguf.length === 0) return out
  const weights = await mergedWeights(model, result)
  if (request.merged) {
    out.modelDir = join(dir, 'model')
    await writeMergedModel(out.modelDir, model.config, weights, model.dir)
  }
  if (request.gguf.length > 0) await mkdir(dir, { recursive: true })
  for (const type of request.gguf) {
    const path = join(dir, `model-${type.toLowerCase()}.gguf`)
    await exportGguf({ ...model, weights }, path, { dtype: type, name: request.name })
    out.ggufPaths.push(path)
  }
  return out
}

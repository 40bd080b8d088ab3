// Writes what a finished run (or a checkpoint) produced, as a folder a user can take away:
//   adapter/   the PEFT adapter (LoRA and DPO runs) with the base model's tokenizer files, as PEFT's save_pretrained
//   model/     the merged model in Hugging Face format (base weights with the adapter folded in, or
//              the fully fine-tuned weights)
//   model-{type}.gguf  llama.cpp GGUFs of the merged model (one per type asked for), and an Ollama
//              Modelfile beside them (FROM the first)
// The paths inside the folder are the artifact names (docs/model-artifacts.md). Shared by both
// command lines.
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exportGguf, type GgufFileType } from '../export/gguf.ts'
import { mergeLora } from '../export/merge-lora.ts'
import { copyTokenizerFiles, writeMergedModel } from '../export/merged-model.ts'
import { ollamaModelfile } from '../export/ollama-modelfile.ts'
import { writePeftAdapter } from '../export/peft-adapter.ts'
import type { LoadedModel } from '../io/load-model.ts'
import type { HostTensors } from '../model/types.ts'
import { TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import type { TrainedWeights } from '../train/trainer.ts'

export interface OutputRequest {
  /** The PEFT adapter, into DIR/adapter (ignored for full fine-tuning, which has none). */
  adapter: boolean
  /** The merged model, into DIR/model. */
  merged: boolean
  /** GGUFs of the merged model, DIR/model-{type}.gguf, one per type, with DIR/Modelfile (FROM the first) beside them; [] for none. */
  gguf: GgufFileType[]
  /** general.name in the GGUF. */
  name?: string
  /** adapter_config.json's base_model_name_or_path: the base model's public id (a Hub repo id), never a server path. */
  baseModelName: string
}

export interface WrittenOutputs {
  adapterDir: string | null
  modelDir: string | null
  ggufPaths: string[]
  modelfilePath: string | null
  /** Every file written, by its path relative to DIR (its artifact name), sorted. */
  files: { name: string; path: string }[]
}

/**
 * The model's weights after training: base + adapter merged, or the trained weights themselves. A
 * QLoRA base is merged as the adapter was trained on it: dequantised from the quantised weights.
 */
async function mergedWeights(model: LoadedModel, result: TrainedWeights): Promise<HostTensors> {
  if (!result.lora) return result.weights.toHost()
  const base = result.weights.quantised.size > 0 ? await result.weights.toHost() : model.weights
  return mergeLora(model.config, base, await result.lora.toHost())
}

async function listFiles(dir: string, folder: string): Promise<{ name: string; path: string }[]> {
  return (await readdir(dir)).sort().map((f) => ({ name: `${folder}/${f}`, path: join(dir, f) }))
}

export async function writeOutputs(dir: string, model: LoadedModel, result: TrainedWeights, request: OutputRequest): Promise<WrittenOutputs> {
  const out: WrittenOutputs = { adapterDir: null, modelDir: null, ggufPaths: [], modelfilePath: null, files: [] }
  await mkdir(dir, { recursive: true })
  if (request.adapter && result.lora) {
    out.adapterDir = join(dir, 'adapter')
    await writePeftAdapter(out.adapterDir, model.config, await result.lora.toHost(), request.baseModelName)
    await copyTokenizerFiles(model.dir, out.adapterDir)
    out.files.push(...(await listFiles(out.adapterDir, 'adapter')))
  }
  if (request.merged || request.gguf.length > 0) {
    const weights = await mergedWeights(model, result)
    if (request.merged) {
      out.modelDir = join(dir, 'model')
      await writeMergedModel(out.modelDir, model.config, weights, model.dir)
      out.files.push(...(await listFiles(out.modelDir, 'model')))
    }
    for (const type of request.gguf) {
      const ggufName = `model-${type.toLowerCase()}.gguf`
      const path = join(dir, ggufName)
      await exportGguf({ ...model, weights }, path, { dtype: type, name: request.name })
      out.ggufPaths.push(path)
      out.files.push({ name: ggufName, path })
      if (out.modelfilePath) continue
      out.modelfilePath = join(dir, 'Modelfile')
      const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
      await writeFile(out.modelfilePath, ollamaModelfile(ggufName, tokenizer, model.tokenizerJson, model.chatTemplate))
      out.files.push({ name: 'Modelfile', path: out.modelfilePath })
    }
  }
  out.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return out
}

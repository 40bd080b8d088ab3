// Writes a full Hugging Face model directory (weights already merged with the adapter): the
// original config.json, model.safetensors, and the base model's tokenizer files copied verbatim,
// so the result loads with AutoModelForCausalLM / vLLM / llama.cpp's converter like the base.
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostTensors, ModelConfig } from '../model/types.ts'
import { writeSafetensorsFile } from '../io/safetensors.ts'

/** Files that describe the tokenizer (what tokenizer.save_pretrained writes); whichever the base has are copied. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', 'vocab.json', 'merges.txt']

/** The model's generation defaults, copied with the merged model (not with an adapter). */
const GENERATION_FILES = ['generation_config.json']

export async function writeMergedModel(
  outDir: string,
  config: ModelConfig,
  weights: HostTensors,
  baseDir: string,
  options: { dtype?: 'F32' | 'F16' } = {},
): Promise<string[]> {
  const dtype = options.dtype ?? 'F32'
  await mkdir(outDir, { recursive: true })
  const rawConfig = { ...config.raw, torch_dtype: dtype === 'F32' ? 'float32' : 'float16' }
  await writeFile(join(outDir, 'config.json'), JSON.stringify(rawConfig, null, 2) + '\n')
  await writeSafetensorsFile(join(outDir, 'model.safetensors'), weights, { dtype, metadata: { format: 'pt' } })
  return copyFiles(baseDir, outDir, [...TOKENIZER_FILES, ...GENERATION_FILES])
}

/** Copies whichever of TOKENIZER_FILES `baseDir` has into `outDir`; returns their names. */
export function copyTokenizerFiles(baseDir: string, outDir: string): Promise<string[]> {
  return copyFiles(baseDir, outDir, TOKENIZER_FILES)
}

async function copyFiles(baseDir: string, outDir: string, names: string[]): Promise<string[]> {
  await mkdir(outDir, { recursive: true })
  const copied: string[] = []
  for (const file of names) {
    const from = join(baseDir, file)
    if (!(await stat(from).then(() => true, () => false))) continue
    await copyFile(from, join(outDir, file))
    copied.push(file)
  }
  return copied
}

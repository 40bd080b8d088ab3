// Writes a full Hugging Face model directory (weights already merged with the adapter): the
// original config.json, model.safetensors, and the base model's tokenizer files copied verbatim,
// so the result loads with AutoModelForCausalLM / vLLM / llama.cpp's converter like the base.
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostTensors, ModelConfig } from '../model/types.ts'
import { writeSafetensorsFile } from '../io/safetensors.ts'

/** Files that describe the tokenizer and generation defaults; whichever the base has are copied. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'chat_template.jinja',
  'vocab.json',
  'merges.txt',
]

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
  const copied: string[] = []
  for (const file of TOKENIZER_FILES) {
    const from = join(baseDir, file)
    if (!(await stat(from).then(() => true, () => false))) continue
    await copyFile(from, join(outDir, file))
    copied.push(file)
  }
  return copied
}

// Builds a tiny model's tokenizer files in a temp dir and wraps them in a TextTokenizer.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Architecture } from '../../../src/trainer/model/types.ts'
import { makeTinyModel } from '../../../src/trainer/tiny/make-tiny-model.ts'
import { TextTokenizer } from '../../../src/trainer/tokenizer/text-tokenizer.ts'

export async function tinyTokenizer(architecture: Architecture, dir: string): Promise<TextTokenizer> {
  await makeTinyModel({ architecture, dir, numLayers: 1 })
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'))
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'))
  return new TextTokenizer(json, config, config.chat_template)
}

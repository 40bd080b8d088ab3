// Loads a Hugging Face model directory (config, safetensors weights, tokenizer files) into
// host memory, from a local path or from a BlobStore prefix copied to a local cache first.
import { mkdir, readFile, rename, stat } from 'node:fs/promises'
import { createWriteStream } from 'node:fs'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { BlobStore } from '../../storage/blob-store.ts'
import type { ModelConfig, HostTensors } from '../model/types.ts'
import { parseHfConfig } from './hf-config.ts'
import { readSafetensorsFile } from './safetensors.ts'

export interface LoadedModel {
  config: ModelConfig
  weights: HostTensors
  /** tokenizer.json, parsed. */
  tokenizerJson: Record<string, unknown>
  /** tokenizer_config.json, parsed ({} when absent). */
  tokenizerConfig: Record<string, unknown>
  /** The Jinja chat template, from tokenizer_config.json or chat_template.jinja; null when none. */
  chatTemplate: string | null
  dir: string
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
}

/** The safetensors files holding the weights: one file, or the shards named by the index. */
export async function weightFiles(dir: string): Promise<string[]> {
  const index = join(dir, 'model.safetensors.index.json')
  if (await exists(index)) {
    const weightMap = (await readJson(index)).weight_map as Record<string, string>
    return [...new Set(Object.values(weightMap))].sort().map((file) => join(dir, file))
  }
  const single = join(dir, 'model.safetensors')
  if (await exists(single)) return [single]
  throw new Error(`no model.safetensors or model.safetensors.index.json in ${dir} (only safetensors weights are supported)`)
}

/**
 * GPT-2 checkpoints on the Hub (openai-community/gpt2) store the base model's names ("h.0.attn...")
 * while GPT2LMHeadModel.save_pretrained writes "transformer.h.0.attn...": normalise to the latter,
 * and drop the causal-mask buffers ("attn.bias", "attn.masked_bias") old exports carry.
 */
export function normalizeWeightNames(config: ModelConfig, weights: HostTensors): HostTensors {
  if (config.architecture !== 'gpt2') return weights
  const out: HostTensors = new Map()
  for (const [name, tensor] of weights) {
    if (/\.attn\.(bias|masked_bias)$/.test(name)) continue
    const full = name.startsWith('transformer.') || name === 'lm_head.weight' ? name : `transformer.${name}`
    out.set(full, tensor)
  }
  return out
}

/** What encoding needs from a model directory: its tokenizer, chat template and context length. */
export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>
  tokenizerConfig: Record<string, unknown>
  chatTemplate: string | null
  /** config.json's parsed form (the context length, max_position_embeddings, is what encoding needs). */
  config: ModelConfig
}

/** A file of the model directory by name, or null when there is none. */
export type ModelFileReader = (name: string) => Promise<string | null>

/**
 * The tokenizer files of a model directory, read through `read` (a local directory, or blobs
 * under a prefix): the trainer and the API's pre-training estimate read them the same way.
 */
export async function readTokenizerFiles(read: ModelFileReader): Promise<TokenizerFiles> {
  const required = async (name: string) => {
    const text = await read(name)
    if (text === null) throw new Error(`no ${name}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  const config = parseHfConfig(await required('config.json'))
  const tokenizerJson = await required('tokenizer.json')
  const configText = await read('tokenizer_config.json')
  const tokenizerConfig = configText === null ? {} : (JSON.parse(configText) as Record<string, unknown>)
  return { config, tokenizerJson, tokenizerConfig, chatTemplate: findChatTemplate(await read('chat_template.jinja'), tokenizerConfig) }
}

/** Reads files of a local model directory. */
export const dirReader = (dir: string): ModelFileReader => async (name) => ((await exists(join(dir, name))) ? readFile(join(dir, name), 'utf8') : null)

export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const { config, tokenizerJson, tokenizerConfig, chatTemplate } = await readTokenizerFiles(dirReader(dir))
  const weights: HostTensors = new Map()
  for (const file of await weightFiles(dir)) {
    for (const [name, tensor] of (await readSafetensorsFile(file)).tensors) weights.set(name, tensor)
  }
  return { config, weights: normalizeWeightNames(config, weights), tokenizerJson, tokenizerConfig, chatTemplate, dir }
}

/** Newer checkpoints keep the template in chat_template.jinja; older ones in tokenizer_config.json. */
function findChatTemplate(jinjaFile: string | null, tokenizerConfig: Record<string, unknown>): string | null {
  if (jinjaFile !== null) return jinjaFile
  const template = tokenizerConfig.chat_template
  if (typeof template === 'string') return template
  // A list of named templates: [{name: 'default', template}, {name: 'tool_use', ...}].
  if (Array.isArray(template)) {
    const named = template as { name: string; template: string }[]
    return (named.find((t) => t.name === 'default') ?? named[0])?.template ?? null
  }
  return null
}

/**
 * Copies every blob under `prefix` into `cacheDir` (keeping relative paths), then loads it.
 * Blobs already cached with the same size are not fetched again.
 */
export async function loadModelFromBlobStore(store: BlobStore, prefix: string, cacheDir: string): Promise<LoadedModel> {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`
  const blobs = await store.list(base)
  if (blobs.length === 0) throw new Error(`no model files under ${base}`)
  for (const blob of blobs) {
    const target = join(cacheDir, blob.key.slice(base.length))
    const cached = await stat(target).catch(() => null)
    if (cached?.size === blob.bytes) continue
    await mkdir(dirname(target), { recursive: true })
    // Write to a temp name and rename, so an interrupted copy never looks cached.
    const temp = `${target}.partial`
    await pipeline(await store.get(blob.key), createWriteStream(temp))
    await rename(temp, target)
  }
  return loadModelDir(cacheDir)
}

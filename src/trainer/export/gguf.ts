// Exports a Hugging Face model (config + weights + tokenizer) to a llama.cpp GGUF file, with the
// metadata keys llama.cpp reads for llama / qwen2 / phi3 / gemma2 / gpt2 (see convert_hf_to_gguf.py).
import type { HostTensors, ModelConfig } from '../model/types.ts'
import { LLAMA_FTYPE, type GgufFileType } from './gguf-tensor-types.ts'
import { ggufTensors } from './gguf-tensors.ts'
import { ggufVocabMetadata } from './gguf-vocab.ts'
import { writeGguf, type GgufValue } from './gguf-writer.ts'

export { GGUF_FILE_TYPES, type GgufFileType } from './gguf-tensor-types.ts'

/** ggml's GGML_QNT_VERSION, which convert_hf_to_gguf.py writes into every file. */
const QUANTIZATION_VERSION = 2

export interface GgufExportInput {
  config: ModelConfig
  weights: HostTensors
  tokenizerJson: Record<string, unknown>
  tokenizerConfig: Record<string, unknown>
  chatTemplate: string | null
}

export function ggufModelMetadata(config: ModelConfig, dtype: GgufFileType, name: string): Map<string, GgufValue> {
  const arch = config.architecture
  const meta = new Map<string, GgufValue>()
  const u32 = (key: string, value: number) => meta.set(`${arch}.${key}`, { type: 'uint32', value })
  const f32 = (key: string, value: number) => meta.set(`${arch}.${key}`, { type: 'float32', value })
  meta.set('general.architecture', { type: 'string', value: arch })
  meta.set('general.type', { type: 'string', value: 'model' })
  meta.set('general.name', { type: 'string', value: name })
  meta.set('general.file_type', { type: 'uint32', value: LLAMA_FTYPE[dtype] })
  meta.set('general.quantization_version', { type: 'uint32', value: QUANTIZATION_VERSION })
  u32('context_length', config.maxPositions)
  u32('embedding_length', config.hiddenSize)
  u32('block_count', config.numLayers)
  u32('feed_forward_length', config.intermediateSize)
  u32('attention.head_count', config.numHeads)
  if (arch === 'gpt2') {
    f32('attention.layer_norm_epsilon', config.normEps)
    return meta
  }
  if (arch === 'phi3') return phi3Metadata(config, meta)
  if (arch === 'gemma2') return gemma2Metadata(config, meta)
  u32('attention.head_count_kv', config.numKvHeads)
  f32('attention.layer_norm_rms_epsilon', config.normEps)
  f32('rope.freq_base', config.ropeTheta)
  u32('rope.dimension_count', config.headDim)
  // As the converter: the key/value lengths whenever config.json states head_dim (Llama-3.2,
  // Mistral, Gemma), and where head_dim is not hidden / heads llama.cpp needs them anyway.
  if (config.raw.head_dim !== undefined || config.headDim * config.numHeads !== config.hiddenSize) {
    u32('attention.key_length', config.headDim)
    u32('attention.value_length', config.headDim)
  }
  u32('vocab_size', config.vocabSize)
  // Llama-3 scaling travels as the rope_freqs tensor; linear scaling as metadata.
  if (config.ropeScaling?.type === 'linear') {
    meta.set(`${arch}.rope.scaling.type`, { type: 'string', value: 'linear' })
    f32('rope.scaling.factor', config.ropeScaling.factor)
  }
  return meta
}

/**
 * Phi3MiniModel.set_gguf_parameters writes its own short list (no vocab_size, no key/value
 * lengths), the original context length always, and attention.sliding_window (0 for none; the
 * llama.cpp bundled here ignores Phi SWA). longrope adds the attention factor here and the
 * factor tensors in gguf-tensors.ts; llama.cpp picks the long ones when its context exceeds the
 * original length, as transformers does past that many positions.
 */
function phi3Metadata(config: ModelConfig, meta: Map<string, GgufValue>): Map<string, GgufValue> {
  const u32 = (key: string, value: number) => meta.set(`phi3.${key}`, { type: 'uint32', value })
  const f32 = (key: string, value: number) => meta.set(`phi3.${key}`, { type: 'float32', value })
  const original = config.raw.original_max_position_embeddings
  u32('rope.scaling.original_context_length', typeof original === 'number' ? original : config.maxPositions)
  u32('attention.head_count_kv', config.numKvHeads)
  f32('attention.layer_norm_rms_epsilon', config.normEps)
  u32('rope.dimension_count', config.headDim)
  f32('rope.freq_base', config.ropeTheta)
  u32('attention.sliding_window', config.slidingWindow ?? 0)
  if (config.ropeScaling?.type === 'longrope') f32('rope.scaling.attn_factor', config.ropeScaling.attentionFactor)
  return meta
}

/**
 * Gemma2Model.set_gguf_parameters: key/value lengths always, both soft-caps, the sliding window
 * (llama.cpp's gemma2 graph windows the even layers, as transformers). rope.freq_base is added
 * (the converter leaves it to llama.cpp's default of 10000) so another rope_theta survives.
 */
function gemma2Metadata(config: ModelConfig, meta: Map<string, GgufValue>): Map<string, GgufValue> {
  const u32 = (key: string, value: number) => meta.set(`gemma2.${key}`, { type: 'uint32', value })
  const f32 = (key: string, value: number) => meta.set(`gemma2.${key}`, { type: 'float32', value })
  const gemma = config.gemma2!
  u32('attention.head_count_kv', config.numKvHeads)
  f32('attention.layer_norm_rms_epsilon', config.normEps)
  u32('attention.key_length', config.headDim)
  u32('attention.value_length', config.headDim)
  f32('rope.freq_base', config.ropeTheta)
  if (gemma.attnLogitSoftcap !== null) f32('attn_logit_softcapping', gemma.attnLogitSoftcap)
  if (gemma.finalLogitSoftcap !== null) f32('final_logit_softcapping', gemma.finalLogitSoftcap)
  u32('attention.sliding_window', config.slidingWindow ?? 4096)
  return meta
}

/** The tokens llama.cpp's vocabulary loader looks up by text when general.name mentions Phi-3. */
const PHI3_NAME_TOKENS = ['<unk>', '<s>', '</s>', '<|endoftext|>']

/**
 * general.name as asked, unless llama.cpp could not load it: for a name containing "phi3" or
 * "phi-3" (any case) it sets attributes on Phi-3's special tokens by text and fails when one is
 * missing from the vocabulary (a GPT-2-style Phi-4 vocabulary, a custom one); then the word is
 * written "phi 3".
 */
export function loadableName(name: string, tokens: readonly string[]): string {
  if (!/phi-?3/i.test(name) || PHI3_NAME_TOKENS.every((token) => tokens.includes(token))) return name
  return name.replace(/phi-?3/gi, (word) => `${word.slice(0, 3)} 3`)
}

export async function exportGguf(input: GgufExportInput, outPath: string, options: { dtype: GgufFileType; name?: string }): Promise<void> {
  const vocab = ggufVocabMetadata(input.config, input.tokenizerJson, input.tokenizerConfig, input.chatTemplate)
  const tokens = vocab.get('tokenizer.ggml.tokens')?.value as string[] | undefined
  const metadata = ggufModelMetadata(input.config, options.dtype, loadableName(options.name ?? 'skillet-model', tokens ?? []))
  for (const [key, value] of vocab) metadata.set(key, value)
  await writeGguf(outPath, metadata, ggufTensors(input.config, input.weights, options.dtype))
}

// Hugging Face config.json -> ModelConfig. Pure: takes the parsed JSON, returns plain data.
import type { Architecture, ModelConfig, RopeScaling } from '../model/types.ts'

/** HF class names we can train and export, by the architecture family they use. */
export const SUPPORTED_HF_ARCHITECTURES: Record<string, Architecture> = {
  LlamaForCausalLM: 'llama',
  // Mistral is Llama's graph under another name, with sliding-window attention (sliding_window).
  MistralForCausalLM: 'llama',
  Qwen2ForCausalLM: 'qwen2',
  Phi3ForCausalLM: 'phi3',
  Gemma2ForCausalLM: 'gemma2',
  GPT2LMHeadModel: 'gpt2',
}

type Raw = Record<string, unknown>

function num(raw: Raw, key: string, fallback?: number): number {
  const value = raw[key]
  if (typeof value === 'number') return value
  if (fallback !== undefined) return fallback
  throw new Error(`config.json: missing numeric "${key}"`)
}

/** eos_token_id may be a list in newer configs (e.g. Llama-3.1 instruct); the first is the primary. */
function tokenId(value: unknown): number | null {
  if (typeof value === 'number') return value
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0]
  return null
}

/** A list of numbers in config.json, or an error naming the key. */
function numbers(raw: Raw, key: string): number[] {
  const value = raw[key]
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) throw new Error(`config.json: rope_scaling.${key} must be a list of numbers`)
  return value as number[]
}

/**
 * `rope_scaling` → RopeScaling. `model` is the whole config.json (longrope reads its
 * max_position_embeddings and original_max_position_embeddings, as transformers does).
 * Which types an architecture may use: llama3 and linear for the Llama family, longrope (or its
 * old name "su") for Phi-3; anything else is refused by name.
 */
export function parseRopeScaling(value: unknown, model: Raw = {}, architecture: Architecture = 'llama'): RopeScaling | null {
  if (value === null || value === undefined) return null
  const rs = value as Raw
  const type = (rs.rope_type ?? rs.type) as string | undefined
  if (type === 'default' || type === undefined) return null
  const supported = architecture === 'phi3' ? ['longrope', 'su'] : architecture === 'gemma2' ? [] : ['llama3', 'linear']
  if (!supported.includes(type)) throw new Error(`config.json: unsupported rope_scaling type "${type}" for ${architecture} (supported: ${supported.join(', ') || 'none'})`)
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: num(rs, 'factor'),
      lowFreqFactor: num(rs, 'low_freq_factor', 1),
      highFreqFactor: num(rs, 'high_freq_factor', 4),
      originalMaxPositionEmbeddings: num(rs, 'original_max_position_embeddings', 8192),
    }
  }
  if (type === 'linear') return { type: 'linear', factor: num(rs, 'factor') }
  // longrope (transformers' _compute_longrope_parameters): the context was stretched from the
  // original length to max_position_embeddings; cos/sin are scaled by attention_factor, by
  // default sqrt(1 + ln(factor) / ln(original)).
  const maxPositions = num(model, 'max_position_embeddings')
  const original = num(model, 'original_max_position_embeddings', maxPositions)
  const factor = maxPositions / original
  const stated = rs.attention_factor
  const attentionFactor = typeof stated === 'number' ? stated : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original))
  return { type: 'longrope', shortFactor: numbers(rs, 'short_factor'), longFactor: numbers(rs, 'long_factor'), originalMaxPositionEmbeddings: original, attentionFactor }
}

/** `sliding_window` when the architecture applies it (Qwen2 only with use_sliding_window, refused here). */
function parseSlidingWindow(raw: Raw, hfArchitecture: string): number | null {
  if (hfArchitecture === 'Qwen2ForCausalLM') {
    if (raw.use_sliding_window === true) throw new Error('config.json: Qwen2 with use_sliding_window is not supported (sliding-window layers from max_window_layers on)')
    return null
  }
  if (hfArchitecture === 'LlamaForCausalLM') return null
  // Gemma-2 always has a window (4096 by default), on its even layers.
  if (hfArchitecture === 'Gemma2ForCausalLM' && raw.sliding_window === undefined) return 4096
  const window = raw.sliding_window
  if (window === null || window === undefined) return null
  if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) throw new Error(`config.json: sliding_window must be a positive integer or null, not ${JSON.stringify(window)}`)
  return window
}

export function parseHfConfig(raw: Raw): ModelConfig {
  const architectures = raw.architectures as string[] | undefined
  const hfArchitecture = architectures?.[0]
  const supported = Object.keys(SUPPORTED_HF_ARCHITECTURES).join(', ')
  if (!hfArchitecture) throw new Error(`config.json has no "architectures" entry (supported: ${supported})`)
  const architecture = SUPPORTED_HF_ARCHITECTURES[hfArchitecture]
  if (!architecture) throw new Error(`unsupported model architecture ${hfArchitecture} (supported: ${supported})`)
  return architecture === 'gpt2' ? parseGpt2(raw, hfArchitecture) : parseLlamaLike(raw, hfArchitecture, architecture)
}

function parseLlamaLike(raw: Raw, hfArchitecture: string, architecture: Architecture): ModelConfig {
  const hiddenSize = num(raw, 'hidden_size')
  const numHeads = num(raw, 'num_attention_heads')
  // Phi-4-mini (also Phi3ForCausalLM) rotates only part of each head.
  const rotary = raw.partial_rotary_factor
  if (rotary !== undefined && rotary !== null && rotary !== 1) throw new Error(`config.json: partial_rotary_factor ${String(rotary)} is not supported (only 1: RoPE over the whole head)`)
  return {
    architecture,
    hfArchitecture,
    vocabSize: num(raw, 'vocab_size'),
    hiddenSize,
    intermediateSize: num(raw, 'intermediate_size'),
    numLayers: num(raw, 'num_hidden_layers'),
    numHeads,
    numKvHeads: num(raw, 'num_key_value_heads', numHeads),
    headDim: num(raw, 'head_dim', hiddenSize / numHeads),
    maxPositions: num(raw, 'max_position_embeddings'),
    normEps: num(raw, 'rms_norm_eps', 1e-6),
    ropeTheta: num(raw, 'rope_theta', 10000),
    ropeScaling: parseRopeScaling(raw.rope_scaling, raw, architecture),
    // Gemma ties by default; the others untie.
    tieWordEmbeddings: architecture === 'gemma2' ? raw.tie_word_embeddings !== false : raw.tie_word_embeddings === true,
    // Qwen2 always has q/k/v biases; some Llama variants opt in with attention_bias.
    attentionBias: architecture === 'qwen2' || raw.attention_bias === true,
    slidingWindow: parseSlidingWindow(raw, hfArchitecture),
    gemma2: architecture === 'gemma2' ? parseGemma2(raw, numHeads) : null,
    bosTokenId: tokenId(raw.bos_token_id),
    eosTokenId: tokenId(raw.eos_token_id),
    raw,
  }
}

/** Softcap values: a positive number or null (off). */
function softcap(raw: Raw, key: string): number | null {
  const value = raw[key]
  if (value === null || value === undefined) return null
  if (typeof value !== 'number' || !(value > 0)) throw new Error(`config.json: ${key} must be a positive number or null`)
  return value
}

/**
 * Gemma-2's extras, refusing what the trainer or llama.cpp's gemma2 graph would compute
 * differently: another activation, layer types other than sliding/full alternating from a
 * sliding first layer, and a query_pre_attn_scalar other than the one llama.cpp derives
 * (head_dim, or hidden / heads for the 46-layer 27B).
 */
function parseGemma2(raw: Raw, numHeads: number): ModelConfig['gemma2'] {
  const activation = raw.hidden_activation ?? raw.hidden_act
  if (activation !== undefined && activation !== 'gelu_pytorch_tanh') throw new Error(`config.json: Gemma-2 hidden_activation ${String(activation)} is not supported (only gelu_pytorch_tanh)`)
  const layerTypes = raw.layer_types
  if (Array.isArray(layerTypes) && !layerTypes.every((type, i) => type === (i % 2 === 0 ? 'sliding_attention' : 'full_attention'))) {
    throw new Error('config.json: Gemma-2 layer_types must alternate sliding_attention, full_attention from the first layer')
  }
  if (raw.tie_word_embeddings === false) throw new Error('config.json: Gemma-2 with tie_word_embeddings false is not supported (llama.cpp\'s gemma2 graph reads the head from the embedding)')
  const headDim = num(raw, 'head_dim')
  const layers = num(raw, 'num_hidden_layers')
  const queryPreAttnScalar = num(raw, 'query_pre_attn_scalar', headDim)
  const llamaCpp = layers === 46 ? num(raw, 'hidden_size') / numHeads : headDim
  if (queryPreAttnScalar !== llamaCpp) throw new Error(`config.json: Gemma-2 query_pre_attn_scalar ${queryPreAttnScalar} is not supported (llama.cpp scales attention by ${llamaCpp}^-1/2 for this shape)`)
  return { queryPreAttnScalar, attnLogitSoftcap: softcap(raw, 'attn_logit_softcapping'), finalLogitSoftcap: softcap(raw, 'final_logit_softcapping') }
}

function parseGpt2(raw: Raw, hfArchitecture: string): ModelConfig {
  const hiddenSize = num(raw, 'n_embd')
  const numHeads = num(raw, 'n_head')
  const inner = raw.n_inner
  return {
    architecture: 'gpt2',
    hfArchitecture,
    vocabSize: num(raw, 'vocab_size'),
    hiddenSize,
    intermediateSize: typeof inner === 'number' ? inner : 4 * hiddenSize,
    numLayers: num(raw, 'n_layer'),
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    maxPositions: num(raw, 'n_positions', num(raw, 'n_ctx', 1024)),
    normEps: num(raw, 'layer_norm_epsilon', 1e-5),
    ropeTheta: 0,
    ropeScaling: null,
    // GPT-2's lm_head is always the token embedding.
    tieWordEmbeddings: true,
    attentionBias: true,
    slidingWindow: null,
    gemma2: null,
    bosTokenId: tokenId(raw.bos_token_id),
    eosTokenId: tokenId(raw.eos_token_id),
    raw,
  }
}

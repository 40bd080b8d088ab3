// Shared shapes between model I/O (loading, generating, exporting) and model compute (tfjs).
// Everything here is plain data: no tfjs, no I/O.

/**
 * The architectures the trainer supports; anything else is refused by name. 'llama' also covers
 * Mistral; 'phi3' is Llama's block with fused qkv_proj and gate_up_proj; 'gemma2' Llama's with
 * four norms per block, GELU, soft-capping and sliding-window attention on every other layer.
 */
export type Architecture = 'llama' | 'qwen2' | 'phi3' | 'gemma2' | 'gpt2'

/** What only Gemma-2 has (config.json's names in the comments). */
export interface Gemma2Options {
  /** Attention scores are scaled by queryPreAttnScalar^-½, not head_dim^-½ (query_pre_attn_scalar). */
  queryPreAttnScalar: number
  /** Attention scores become cap·tanh(score / cap) before the mask (attn_logit_softcapping); null: not capped. */
  attnLogitSoftcap: number | null
  /** The logits become cap·tanh(logit / cap) (final_logit_softcapping); null: not capped. */
  finalLogitSoftcap: number | null
}

/**
 * config.json's `rope_scaling`, or null for plain RoPE:
 * - linear: every frequency divided by `factor`;
 * - llama3: Llama-3.1's banded rule;
 * - longrope (Phi-3 / Phi-3.5, also spelt "su"): per-frequency divisors, the short list up to
 *   `originalMaxPositionEmbeddings` positions and the long one beyond, with cos and sin scaled by
 *   `attentionFactor`.
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor?: number; highFreqFactor?: number; originalMaxPositionEmbeddings?: number }
  | { type: 'longrope'; shortFactor: number[]; longFactor: number[]; originalMaxPositionEmbeddings: number; attentionFactor: number }

/** A Hugging Face config.json, normalised to the fields the trainer needs. */
export interface ModelConfig {
  architecture: Architecture
  /** The HF class name, e.g. "LlamaForCausalLM". */
  hfArchitecture: string
  vocabSize: number
  hiddenSize: number
  intermediateSize: number
  numLayers: number
  numHeads: number
  numKvHeads: number
  headDim: number
  maxPositions: number
  /** RMSNorm eps (llama, qwen2) or LayerNorm eps (gpt2). */
  normEps: number
  ropeTheta: number
  ropeScaling: RopeScaling | null
  tieWordEmbeddings: boolean
  /** q/k/v projections carry a bias (Qwen2). */
  attentionBias: boolean
  /**
   * Sliding-window attention (config.json's `sliding_window`; Mistral and Phi-3 on every layer,
   * Gemma-2 on the even ones): query i sees keys j with i - window < j ≤ i. null: every earlier key.
   */
  slidingWindow: number | null
  /** Gemma-2's extras; null for every other architecture. */
  gemma2: Gemma2Options | null
  bosTokenId: number | null
  eosTokenId: number | null
  /** The original config.json, kept verbatim for exports. */
  raw: Record<string, unknown>
}

export type DType = 'F32' | 'F16' | 'BF16'

/** A tensor in host memory, always widened to f32, row-major. */
export interface HostTensor {
  shape: number[]
  data: Float32Array
}

/** Weights by their Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight". */
export type HostTensors = Map<string, HostTensor>

/** One LoRA-adapted module: A [r, in] and B [out, r], as PEFT stores lora_A / lora_B. */
export interface LoraModuleWeights {
  a: HostTensor
  b: HostTensor
}

/**
 * A trained LoRA adapter. Modules are keyed by their HF module name (the weight name without
 * ".weight"), e.g. "model.layers.0.self_attn.q_proj" or "transformer.h.0.attn.c_attn".
 * The update is W + (alpha / rank) · B·A (transposed for GPT-2's Conv1D [in, out] weights).
 */
export interface LoraAdapter {
  rank: number
  alpha: number
  dropout: number
  /** Module leaf names, e.g. ["q_proj", "v_proj"] or ["c_attn"]. */
  targetModules: string[]
  modules: Map<string, LoraModuleWeights>
}

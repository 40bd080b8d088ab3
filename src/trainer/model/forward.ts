// The forward pass of a decoder-only transformer, top to bottom, in the spirit of nanoGPT.
//
// Supported: Llama family (RMSNorm, RoPE with optional Llama-3 scaling, grouped-query
// attention, SwiGLU MLP, tied or untied head), Qwen2 (Llama + q/k/v biases) and GPT-2
// (LayerNorm, learned positions, GELU-tanh MLP, Conv1D weights).
//
// Activations are kept as 2-D [tokens, features] (tokens = batch·seq) between blocks so every
// projection is one plain 2-D product; only attention reshapes into heads.
//
// Padding: sequences are right-padded; positions are 0..T-1 for every row. Padded keys are
// masked out of attention, so real tokens never see padding. Padded query rows compute
// garbage that the loss masks away.
import * as tf from '@tensorflow/tfjs-core'
import type { LoraAdapters } from './lora.ts'
import { ropeTables } from './rope.ts'
import type { ModelConfig } from './types.ts'
import type { ModelWeights } from './weights.ts'

/** A batch of token rows, row-major [batchSize, seqLen]. */
export interface TokenBatch {
  ids: Int32Array
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array | Uint8Array
  batchSize: number
  seqLen: number
}

export interface ForwardOptions {
  lora?: LoraAdapters | null
  /** Seed for LoRA dropout in this pass; null = no dropout (evaluation). */
  dropoutSeed?: number | null
}

/** Additive attention bias [B, 1, T, T]: 0 where query i may attend key j (j ≤ i, key not padding), else -1e9. */
function attentionBias(batch: TokenBatch): tf.Tensor4D {
  const { batchSize: B, seqLen: T, attentionMask } = batch
  const bias = new Float32Array(B * T * T)
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        if (j > i || attentionMask[b * T + j] === 0) bias[(b * T + i) * T + j] = -1e9
      }
    }
  }
  return tf.tensor4d(bias, [B, 1, T, T])
}

class Forward {
  private readonly config: ModelConfig
  private readonly w: ModelWeights
  private readonly lora: LoraAdapters | null
  private dropoutSeed: number | null

  constructor(weights: ModelWeights, opts: ForwardOptions) {
    this.config = weights.config
    this.w = weights
    this.lora = opts.lora ?? null
    this.dropoutSeed = opts.dropoutSeed ?? null
  }

  /** x [tokens, in] · W [in, out] (+ bias) (+ LoRA). */
  private linear(x: tf.Tensor2D, path: string): tf.Tensor2D {
    let y: tf.Tensor2D = tf.matMul(x, this.w.get(`${path}.weight`) as tf.Tensor2D)
    const bias = this.w.maybe(`${path}.bias`)
    if (bias) y = tf.add<tf.Tensor2D>(y, bias)
    // Each adapted module draws its own dropout mask: a distinct seed per call.
    const seed = this.dropoutSeed === null ? null : this.dropoutSeed++
    const delta = this.lora?.delta(path, x, seed) ?? null
    return delta ? tf.add<tf.Tensor2D>(y, delta) : y
  }

  private rmsNorm(x: tf.Tensor2D, weightName: string): tf.Tensor2D {
    const meanSquare = tf.mean(tf.square(x), -1, true) // [tokens, 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, this.config.normEps))), this.w.get(weightName)) as tf.Tensor2D
  }

  private layerNorm(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    const mean = tf.mean(x, -1, true) // [tokens, 1]
    const centred = tf.sub(x, mean)
    const variance = tf.mean(tf.square(centred), -1, true) // [tokens, 1]
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.config.normEps)))
    return tf.add(tf.mul(normed, this.w.get(`${prefix}.weight`)), this.w.get(`${prefix}.bias`))
  }

  /** Rotates channel pairs (i, i + Dh/2) of x [B, T, H, Dh] by position (HF's rotate_half convention). */
  private rope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
    const half = this.config.headDim / 2
    const [x1, x2] = tf.split(x, [half, half], -1) // each [B, T, H, Dh/2]
    return tf.concat<tf.Tensor4D>([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))], -1)
  }

  /**
   * Causal grouped-query attention. q [B·T, H·Dh], k/v [B·T, Hkv·Dh] → [B·T, H·Dh].
   * The G = H/Hkv query heads sharing a key/value head are stacked along the time axis, so
   * K and V are never repeated: scores for group member g are rows g·T..(g+1)·T-1.
   */
  private attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, B: number, T: number,
    bias: tf.Tensor4D, rope: { cos: tf.Tensor4D; sin: tf.Tensor4D } | null): tf.Tensor2D {
    const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = this.config
    const G = H / Hkv
    let q4 = tf.reshape<tf.Rank.R4>(q, [B, T, H, Dh]) // [B, T, H, Dh]
    let k4 = tf.reshape<tf.Rank.R4>(k, [B, T, Hkv, Dh]) // [B, T, Hkv, Dh]
    const v4 = tf.reshape(v, [B, T, Hkv, Dh]) // [B, T, Hkv, Dh]
    if (rope) {
      q4 = this.rope(q4, rope.cos, rope.sin)
      k4 = this.rope(k4, rope.cos, rope.sin)
    }
    // Heads first. Query head h = kvHead·G + g, so [B, H, T, Dh] is [B, Hkv, G·T, Dh] in memory.
    const qh = tf.reshape(tf.transpose(q4, [0, 2, 1, 3]), [B * Hkv, G * T, Dh]) // [B·Hkv, G·T, Dh]
    const kh = tf.reshape(tf.transpose(k4, [0, 2, 1, 3]), [B * Hkv, T, Dh]) // [B·Hkv, T, Dh]
    const vh = tf.reshape(tf.transpose(v4, [0, 2, 1, 3]), [B * Hkv, T, Dh]) // [B·Hkv, T, Dh]
    const scores = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(Dh)) // [B·Hkv, G·T, T]
    const masked = tf.add(tf.reshape(scores, [B, H, T, T]), bias) // [B, H, T, T]
    const probs = tf.reshape(tf.softmax(masked, -1), [B * Hkv, G * T, T]) // [B·Hkv, G·T, T]
    const out = tf.reshape(tf.matMul(probs, vh), [B, H, T, Dh]) // [B, H, T, Dh]
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * T, H * Dh]) // [B·T, H·Dh]
  }

  private llamaBlock(x: tf.Tensor2D, layer: number, B: number, T: number, bias: tf.Tensor4D,
    rope: { cos: tf.Tensor4D; sin: tf.Tensor4D }): tf.Tensor2D {
    const p = `model.layers.${layer}`
    // Attention sub-block: x + o(attn(norm(x)))
    const h = this.rmsNorm(x, `${p}.input_layernorm.weight`) // [B·T, D]
    const q = this.linear(h, `${p}.self_attn.q_proj`) // [B·T, H·Dh]
    const k = this.linear(h, `${p}.self_attn.k_proj`) // [B·T, Hkv·Dh]
    const v = this.linear(h, `${p}.self_attn.v_proj`) // [B·T, Hkv·Dh]
    const attn = this.attention(q, k, v, B, T, bias, rope) // [B·T, H·Dh]
    x = tf.add(x, this.linear(attn, `${p}.self_attn.o_proj`)) // [B·T, D]
    // MLP sub-block (SwiGLU): x + down(silu(gate(norm(x))) * up(norm(x)))
    const m = this.rmsNorm(x, `${p}.post_attention_layernorm.weight`) // [B·T, D]
    const gate = this.linear(m, `${p}.mlp.gate_proj`) // [B·T, I]
    const up = this.linear(m, `${p}.mlp.up_proj`) // [B·T, I]
    const act = tf.mul<tf.Tensor2D>(tf.mul(gate, tf.sigmoid(gate)), up) // [B·T, I]
    return tf.add(x, this.linear(act, `${p}.mlp.down_proj`)) // [B·T, D]
  }

  private gpt2Block(x: tf.Tensor2D, layer: number, B: number, T: number, bias: tf.Tensor4D): tf.Tensor2D {
    const p = `h.${layer}`
    const D = this.config.hiddenSize
    // Attention sub-block; c_attn packs q, k, v along the features.
    const h = this.layerNorm(x, `${p}.ln_1`) // [B·T, D]
    const qkv = this.linear(h, `${p}.attn.c_attn`) // [B·T, 3D]
    const [q, k, v] = tf.split(qkv, [D, D, D], 1) as tf.Tensor2D[] // each [B·T, D]
    const attn = this.attention(q, k, v, B, T, bias, null) // [B·T, D]
    x = tf.add(x, this.linear(attn, `${p}.attn.c_proj`)) // [B·T, D]
    // MLP sub-block: x + proj(gelu_tanh(fc(norm(x))))
    const m = this.layerNorm(x, `${p}.ln_2`) // [B·T, D]
    const fc = this.linear(m, `${p}.mlp.c_fc`) // [B·T, 4D]
    return tf.add(x, this.linear(geluTanh(fc as tf.Tensor2D), `${p}.mlp.c_proj`)) // [B·T, D]
  }

  /** Final hidden states [B·T, D] (after the last norm), ready for the output projection. */
  hidden(batch: TokenBatch): tf.Tensor2D {
    const { batchSize: B, seqLen: T } = batch
    const config = this.config
    const ids = tf.tensor1d(batch.ids, 'int32') // [B·T]
    const bias = attentionBias(batch) // [B, 1, T, T]
    let x = tf.gather(this.w.get(this.w.embeddingName()), ids) as tf.Tensor2D // [B·T, D]

    if (config.architecture === 'gpt2') {
      const positions = tf.tile(tf.range(0, T, 1, 'int32'), [B]) // [B·T]: 0..T-1 per row
      x = tf.add(x, tf.gather(this.w.get('wpe.weight'), positions)) // [B·T, D]
      for (let layer = 0; layer < config.numLayers; layer++) x = this.gpt2Block(x, layer, B, T, bias)
      return this.layerNorm(x, 'ln_f')
    }

    const tables = ropeTables(config, T)
    const half = config.headDim / 2
    const rope = { cos: tf.tensor4d(tables.cos, [1, T, 1, half]), sin: tf.tensor4d(tables.sin, [1, T, 1, half]) }
    for (let layer = 0; layer < config.numLayers; layer++) x = this.llamaBlock(x, layer, B, T, bias, rope)
    return this.rmsNorm(x, 'model.norm.weight')
  }
}

/** GELU, tanh approximation (GPT-2's "gelu_new"). */
function geluTanh(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
}

/** Final hidden states [B·T, D]. Call inside tf.tidy (or a gradient function). */
export function forwardHidden(weights: ModelWeights, batch: TokenBatch, opts: ForwardOptions = {}): tf.Tensor2D {
  return new Forward(weights, opts).hidden(batch)
}

/** hidden [rows, D] → logits [rows, V] through the (possibly tied) head. */
export function projectToVocab(weights: ModelWeights, hidden: tf.Tensor2D): tf.Tensor2D {
  const { weight, vocabMajor } = weights.headWeight()
  return tf.matMul(hidden, weight as tf.Tensor2D, false, vocabMajor)
}

/** Full logits [B, T, V]. For tests and short generation only: training never builds these. */
export function forwardLogits(weights: ModelWeights, batch: TokenBatch, opts: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const logits = projectToVocab(weights, forwardHidden(weights, batch, opts)) // [B·T, V]
    return tf.reshape(logits, [batch.batchSize, batch.seqLen, weights.config.vocabSize]) // [B, T, V]
  })
}

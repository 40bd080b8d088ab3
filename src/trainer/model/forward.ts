// The forward pass of a decoder-only transformer, top to bottom, in the spirit of nanoGPT.
//
// Supported: Llama family (RMSNorm, RoPE with optional Llama-3 scaling, grouped-query
// attention, SwiGLU MLP, tied or untied head; Mistral's sliding-window attention), Qwen2
// (Llama + q/k/v biases), Phi-3 (Llama with fused qkv_proj and gate_up_proj, longrope),
// Gemma-2 (Llama with scaled embeddings, (1 + w) RMSNorms before and after each sub-block,
// GELU-tanh gating, soft-capped attention scores and logits, a sliding window on even layers)
// and GPT-2 (LayerNorm, learned positions, GELU-tanh MLP, Conv1D weights).
//
// Activations are kept as 2-D [tokens, features] (tokens = batch·seq) between blocks so every
// projection is one plain 2-D product; only attention reshapes into heads. With a frozen base
// (LoRA, DPO) each projection is one op with a hand-written gradient (frozen-linear.ts).
//
// Padding: sequences are right-padded; positions are 0..T-1 for every row. Padded keys are
// masked out of attention, so real tokens never see padding. Padded query rows compute
// garbage that the loss masks away.
import * as tf from '@tensorflow/tfjs-core'
import { frozenLinear } from './frozen-linear.ts'
import { blockProjectionPaths, type LoraAdapters } from './lora.ts'
import { halfSwap, ropeRows } from './rope.ts'
import { rmsNorm } from './rms-norm.ts'
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
  /**
   * Gradient checkpointing: keep only each block's input for the backward pass and run the block
   * again there (see Forward.block). Costs about one more forward pass; saves nearly all the
   * activation memory, which otherwise grows with layers × tokens until the backward pass ends.
   */
  checkpointBlocks?: boolean
}

/**
 * Additive attention bias [B, 1, T, T]: 0 where query i may attend key j (j ≤ i, key not
 * padding, and with a sliding window `window`, i - j < window), else -1e9.
 */
function attentionBias(batch: TokenBatch, window: number | null): tf.Tensor4D {
  const { batchSize: B, seqLen: T, attentionMask } = batch
  const bias = new Float32Array(B * T * T)
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const outside = window !== null && i - j >= window
        if (j > i || outside || attentionMask[b * T + j] === 0) bias[(b * T + i) * T + j] = -1e9
      }
    }
  }
  return tf.tensor4d(bias, [B, 1, T, T])
}

/** RoPE for one pass: tables per head count (queries and grouped keys differ) and the half swap. */
interface RopeTensors {
  /** B·T: rows of a [tokens, features] activation. */
  tokens: number
  swap: tf.Tensor2D
  byHeads: Map<number, { cos: tf.Tensor2D; sin: tf.Tensor2D }>
}

/**
 * ropeRows for the shape of the previous call with the same config, or fresh ones: training
 * repeats one batch shape step after step, and the tables are as big as a layer's queries.
 */
const lastRopeRows = new WeakMap<ModelConfig, Map<number, { key: string; rows: ReturnType<typeof ropeRows> }>>()
function cachedRopeRows(config: ModelConfig, batch: number, seqLen: number, heads: number): ReturnType<typeof ropeRows> {
  const byHeads = lastRopeRows.get(config) ?? new Map()
  lastRopeRows.set(config, byHeads)
  const key = `${batch}x${seqLen}`
  let entry = byHeads.get(heads)
  if (entry?.key !== key) {
    entry = { key, rows: ropeRows(config, batch, seqLen, heads) }
    byHeads.set(heads, entry)
  }
  return entry.rows
}

class Forward {
  private readonly config: ModelConfig
  private readonly w: ModelWeights
  private readonly lora: LoraAdapters | null
  private dropoutSeed: number | null
  private readonly checkpointBlocks: boolean

  constructor(weights: ModelWeights, opts: ForwardOptions) {
    this.config = weights.config
    this.w = weights
    this.lora = opts.lora ?? null
    this.dropoutSeed = opts.dropoutSeed ?? null
    this.checkpointBlocks = opts.checkpointBlocks ?? false
  }

  /** What trains inside block `layer`: its LoRA adapters (frozen base) or all its weights (full fine-tuning). */
  private blockParameters(layer: number): tf.Tensor[] {
    if (this.w.trainable) {
      const prefix = this.config.architecture === 'gpt2' ? `h.${layer}.` : `model.layers.${layer}.`
      return [...this.w.tensors].filter(([name]) => name.startsWith(prefix)).map(([, t]) => t)
    }
    return blockProjectionPaths(this.config, layer).flatMap((path) => {
      const pair = this.lora?.adapts(path) ? this.lora.pairs.get(path)! : null
      return pair ? [pair.a, pair.b] : []
    })
  }

  /**
   * Runs block `layer` (`run`: x [B·T, D] → [B·T, D] and whether it carries a gradient) so that
   * what it computes on the way is freed as soon as the block is done.
   *
   * Without checkpointing, the block's tensors are freed on its return, but what its ops saved for
   * the backward pass stays — and tfjs's backward pass keeps every gradient it computes until it
   * ends, so memory grows with layers × tokens through the whole step (≈0.4 MB per token per layer
   * at SmolLM2-135M's width). With checkpointing, the block is one op whose backward runs the block
   * again from its saved input, under its own tape, and returns the gradients for the input and
   * the block's parameters: the step holds one block's activations at a time. The dropout seeds are
   * replayed so that the second run draws the same masks.
   */
  private block(x: tf.Tensor2D, xTrains: boolean, layer: number, constants: tf.Tensor[],
    run: (x: tf.Tensor2D, xTrains: boolean, constants: tf.Tensor[]) => [tf.Tensor2D, boolean]): [tf.Tensor2D, boolean] {
    const params = this.checkpointBlocks ? this.blockParameters(layer) : []
    // Nothing to differentiate through (evaluation, DPO's reference pass), or nothing to save.
    if (!this.checkpointBlocks || (params.length === 0 && !xTrains)) return tf.tidy(() => run(x, xTrains, constants))
    const firstSeed = this.dropoutSeed
    let outTrains = xTrains
    const once = (input: tf.Tensor2D, consts: tf.Tensor[]): tf.Tensor2D => {
      this.dropoutSeed = firstSeed
      const [y, trains] = run(input, xTrains, consts)
      outTrains = trains
      return y
    }
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args.pop() as tf.GradSaveFunc
      const input = xTrains ? (args[0] as tf.Tensor2D) : x
      const value = tf.tidy(() => once(input, constants))
      // The pass's constants (attention bias, RoPE tables) are freed with the forward pass: saved too.
      save([input, ...constants])
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, ...savedConstants] = saved as [tf.Tensor2D, ...tf.Tensor[]]
        const after = this.dropoutSeed
        const grads = gradientsUnderOwnTape(() => once(savedInput, savedConstants), xTrains ? [savedInput, ...params] : params, dy)
        this.dropoutSeed = after
        return grads
      }
      return { value, gradFunc }
    })
    const y = op(...(xTrains ? [x, ...params] : params)) as tf.Tensor2D
    return [y, outTrains]
  }

  /** Whether any of modules `paths` has an adapter that is on. */
  private adapted(...paths: string[]): boolean {
    return paths.some((p) => this.lora?.adapts(p) ?? false)
  }

  /**
   * x [tokens, in] · W [in, out] (+ bias) (+ LoRA). `xTrains`: whether x carries a gradient
   * (see llamaBlock); only a frozen base uses it.
   */
  private linear(x: tf.Tensor2D, path: string, xTrains: boolean): tf.Tensor2D {
    const weight = this.w.projection(`${path}.weight`)
    const bias = this.w.maybe(`${path}.bias`)
    // Each adapted module draws its own dropout mask: a distinct seed per call.
    const seed = this.dropoutSeed === null ? null : this.dropoutSeed++
    if (this.w.trainable) {
      // Full fine-tuning: plain ops, autodiff gives both the input and the weight gradients.
      const y: tf.Tensor2D = tf.matMul(x, weight as tf.Tensor2D)
      return bias ? tf.add<tf.Tensor2D>(y, bias) : y
    }
    const lora = this.lora?.pathFor(path, x.shape[0], seed) ?? null
    return frozenLinear(x, { weight, bias }, lora, xTrains)
  }

  /** RMSNorm; Gemma's stores its gain as an offset from 1 (x̂ · (1 + w)). */
  private rmsNorm(x: tf.Tensor2D, weightName: string): tf.Tensor2D {
    return rmsNorm(x, this.w.get(weightName), this.config.normEps, this.config.gemma2 !== null) // [B·T, D]
  }

  private layerNorm(x: tf.Tensor2D, prefix: string): tf.Tensor2D {
    const mean = tf.mean(x, -1, true) // [tokens, 1]
    const centred = tf.sub(x, mean)
    const variance = tf.mean(tf.square(centred), -1, true) // [tokens, 1]
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.config.normEps)))
    return tf.add(tf.mul(normed, this.w.get(`${prefix}.weight`)), this.w.get(`${prefix}.bias`))
  }

  /**
   * Rotates channel pairs (i, i + Dh/2) of x [B·T·heads, Dh] by position (HF's rotate_half
   * convention) as x ⊙ cos + (x·P) ⊙ sin; see ropeRows for the tables.
   */
  private rope(x: tf.Tensor2D, rope: RopeTensors): tf.Tensor2D {
    const heads = x.shape[0] / rope.tokens
    const tables = rope.byHeads.get(heads)!
    return tf.add(tf.mul(x, tables.cos), tf.mul(tf.matMul(x, rope.swap), tables.sin))
  }

  /**
   * Causal grouped-query attention. q [B·T, H·Dh], k/v [B·T, Hkv·Dh] → [B·T, H·Dh].
   * The G = H/Hkv query heads sharing a key/value head are stacked along the time axis, so
   * K and V are never repeated: scores for group member g are rows g·T..(g+1)·T-1.
   */
  private attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, B: number, T: number,
    bias: tf.Tensor4D, rope: RopeTensors | null): tf.Tensor2D {
    const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = this.config
    const G = H / Hkv
    if (rope) {
      q = tf.reshape(this.rope(tf.reshape(q, [B * T * H, Dh]), rope), [B * T, H * Dh])
      k = tf.reshape(this.rope(tf.reshape(k, [B * T * Hkv, Dh]), rope), [B * T, Hkv * Dh])
    }
    const q4 = tf.reshape(q, [B, T, H, Dh]) // [B, T, H, Dh]
    const k4 = tf.reshape(k, [B, T, Hkv, Dh]) // [B, T, Hkv, Dh]
    const v4 = tf.reshape(v, [B, T, Hkv, Dh]) // [B, T, Hkv, Dh]
    // Heads first. Query head h = kvHead·G + g, so [B, H, T, Dh] is [B, Hkv, G·T, Dh] in memory.
    const qh = tf.reshape(tf.transpose(q4, [0, 2, 1, 3]), [B * Hkv, G * T, Dh]) // [B·Hkv, G·T, Dh]
    const kh = tf.reshape(tf.transpose(k4, [0, 2, 1, 3]), [B * Hkv, T, Dh]) // [B·Hkv, T, Dh]
    const vh = tf.reshape(tf.transpose(v4, [0, 2, 1, 3]), [B * Hkv, T, Dh]) // [B·Hkv, T, Dh]
    const gemma = this.config.gemma2
    const scale = 1 / Math.sqrt(gemma ? gemma.queryPreAttnScalar : Dh)
    const scores = softcap(tf.mul(tf.matMul(qh, kh, false, true), scale), gemma?.attnLogitSoftcap ?? null) // [B·Hkv, G·T, T]
    const masked = tf.add(tf.reshape(scores, [B, H, T, T]), bias) // [B, H, T, T]
    const probs = tf.reshape(tf.softmax(masked, -1), [B * Hkv, G * T, T]) // [B·Hkv, G·T, T]
    const out = tf.reshape(tf.matMul(probs, vh), [B, H, T, Dh]) // [B, H, T, Dh]
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * T, H * Dh]) // [B·T, H·Dh]
  }

  /**
   * `xTrains`: whether anything trainable lies upstream of x, so that a gradient must flow back
   * through it — always when the base trains; with a frozen base, from the first adapter on.
   * Threaded through each projection so a frozen one computes no input gradient nobody needs
   * (the first block's q/k/v read the frozen embedding). Returns the block's output and the
   * same flag for it.
   */
  private llamaBlock(x: tf.Tensor2D, xTrains: boolean, layer: number, B: number, T: number, bias: tf.Tensor4D,
    rope: RopeTensors): [tf.Tensor2D, boolean] {
    const p = `model.layers.${layer}`
    const gemma = this.config.gemma2 !== null
    const [oPath, downPath] = [`${p}.self_attn.o_proj`, `${p}.mlp.down_proj`]
    // Gemma-2 also norms each sub-block's output before the residual add ("sandwich" norms).
    const post = (y: tf.Tensor2D, norm: string) => (gemma ? this.rmsNorm(y, `${p}.${norm}.weight`) : y) // [B·T, D]
    // Attention sub-block: x + o(attn(norm(x)))
    const h = this.rmsNorm(x, `${p}.input_layernorm.weight`) // [B·T, D]
    const { q, k, v, trains: attnTrains } = this.queryKeyValue(h, p, xTrains)
    const attn = this.attention(q, k, v, B, T, bias, rope) // [B·T, H·Dh]
    x = tf.add(x, post(this.linear(attn, oPath, attnTrains), 'post_attention_layernorm')) // [B·T, D]
    const midTrains = attnTrains || this.adapted(oPath)
    // MLP sub-block: x + down(act(gate(norm(x))) * up(norm(x))), act SiLU (SwiGLU) or Gemma's GELU-tanh.
    const m = this.rmsNorm(x, `${p}.${gemma ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'}.weight`) // [B·T, D]
    const { gate, up, trains: actTrains } = this.gateUp(m, p, midTrains)
    const act = tf.mul<tf.Tensor2D>(gemma ? geluTanh(gate) : tf.mul(gate, tf.sigmoid(gate)), up) // [B·T, I]
    const out = post(this.linear(act, downPath, actTrains), 'post_feedforward_layernorm') // [B·T, D]
    return [tf.add(x, out), actTrains || this.adapted(downPath)] // [B·T, D]
  }

  /**
   * q [B·T, H·Dh], k and v [B·T, Hkv·Dh] of block `p` from h [B·T, D]: three projections, or
   * Phi-3's one qkv_proj whose output packs q, k, v along the features. `trains`: whether the
   * result carries a gradient.
   */
  private queryKeyValue(h: tf.Tensor2D, p: string, xTrains: boolean): { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D; trains: boolean } {
    const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = this.config
    if (this.config.architecture === 'phi3') {
      const path = `${p}.self_attn.qkv_proj`
      const qkv = this.linear(h, path, xTrains) // [B·T, (H + 2·Hkv)·Dh]
      const [q, k, v] = tf.split(qkv, [H * Dh, Hkv * Dh, Hkv * Dh], 1) as tf.Tensor2D[] // [B·T, H·Dh], [B·T, Hkv·Dh] ×2
      return { q, k, v, trains: xTrains || this.adapted(path) }
    }
    const [qPath, kPath, vPath] = ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.self_attn.${m}`)
    const q = this.linear(h, qPath, xTrains) // [B·T, H·Dh]
    const k = this.linear(h, kPath, xTrains) // [B·T, Hkv·Dh]
    const v = this.linear(h, vPath, xTrains) // [B·T, Hkv·Dh]
    return { q, k, v, trains: xTrains || this.adapted(qPath, kPath, vPath) }
  }

  /** gate and up [B·T, I] of block `p` from m [B·T, D]: two projections, or Phi-3's gate_up_proj (gate first). */
  private gateUp(m: tf.Tensor2D, p: string, mTrains: boolean): { gate: tf.Tensor2D; up: tf.Tensor2D; trains: boolean } {
    const I = this.config.intermediateSize
    if (this.config.architecture === 'phi3') {
      const path = `${p}.mlp.gate_up_proj`
      const [gate, up] = tf.split(this.linear(m, path, mTrains), [I, I], 1) as tf.Tensor2D[] // [B·T, 2I] → [B·T, I] ×2
      return { gate, up, trains: mTrains || this.adapted(path) }
    }
    const [gatePath, upPath] = [`${p}.mlp.gate_proj`, `${p}.mlp.up_proj`]
    const gate = this.linear(m, gatePath, mTrains) // [B·T, I]
    const up = this.linear(m, upPath, mTrains) // [B·T, I]
    return { gate, up, trains: mTrains || this.adapted(gatePath, upPath) }
  }

  /** As llamaBlock. */
  private gpt2Block(x: tf.Tensor2D, xTrains: boolean, layer: number, B: number, T: number, bias: tf.Tensor4D): [tf.Tensor2D, boolean] {
    const p = `h.${layer}`
    const [qkvPath, projPath, fcPath, mlpProjPath] = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((m) => `${p}.${m}`)
    const D = this.config.hiddenSize
    // Attention sub-block; c_attn packs q, k, v along the features.
    const h = this.layerNorm(x, `${p}.ln_1`) // [B·T, D]
    const qkv = this.linear(h, qkvPath, xTrains) // [B·T, 3D]
    const [q, k, v] = tf.split(qkv, [D, D, D], 1) as tf.Tensor2D[] // each [B·T, D]
    const attn = this.attention(q, k, v, B, T, bias, null) // [B·T, D]
    const attnTrains = xTrains || this.adapted(qkvPath)
    x = tf.add(x, this.linear(attn, projPath, attnTrains)) // [B·T, D]
    const midTrains = attnTrains || this.adapted(projPath)
    // MLP sub-block: x + proj(gelu_tanh(fc(norm(x))))
    const m = this.layerNorm(x, `${p}.ln_2`) // [B·T, D]
    const fc = this.linear(m, fcPath, midTrains) // [B·T, 4D]
    const actTrains = midTrains || this.adapted(fcPath)
    return [tf.add(x, this.linear(geluTanh(fc as tf.Tensor2D), mlpProjPath, actTrains)), actTrains || this.adapted(mlpProjPath)] // [B·T, D]
  }

  /** Final hidden states [B·T, D] (after the last norm), ready for the output projection. */
  hidden(batch: TokenBatch): tf.Tensor2D {
    const { batchSize: B, seqLen: T } = batch
    const config = this.config
    const ids = tf.tensor1d(batch.ids, 'int32') // [B·T]
    // Gemma-2 windows only its even layers; Mistral and Phi-3 every layer.
    const windowed = config.slidingWindow === null ? null : attentionBias(batch, config.slidingWindow) // [B, 1, T, T]
    const full = windowed && !config.gemma2 ? windowed : attentionBias(batch, null) // [B, 1, T, T]
    const biasAt = (layer: number) => (windowed && (!config.gemma2 || layer % 2 === 0) ? windowed : full)
    let x = tf.gather(this.w.get(this.w.embeddingName()), ids) as tf.Tensor2D // [B·T, D]
    // Gemma scales the embeddings by √D (in the weights' dtype: f32 here).
    if (config.gemma2) x = tf.mul(x, Math.fround(Math.sqrt(config.hiddenSize)))

    if (config.architecture === 'gpt2') {
      const positions = tf.tile(tf.range(0, T, 1, 'int32'), [B]) // [B·T]: 0..T-1 per row
      x = tf.add(x, tf.gather(this.w.get('wpe.weight'), positions)) // [B·T, D]
      // The embedding is the only thing upstream of the first block: trainable only in full fine-tuning.
      let trains = this.w.trainable
      for (let layer = 0; layer < config.numLayers; layer++) {
        ;[x, trains] = this.block(x, trains, layer, [full], (xi, ti, [bias]) => this.gpt2Block(xi, ti, layer, B, T, bias as tf.Tensor4D))
      }
      return this.layerNorm(x, 'ln_f')
    }

    const rope: RopeTensors = { tokens: B * T, swap: tf.tensor2d(halfSwap(config.headDim), [config.headDim, config.headDim]), byHeads: new Map() }
    for (const heads of new Set([config.numHeads, config.numKvHeads])) {
      const rows = cachedRopeRows(config, B, T, heads)
      const shape: [number, number] = [B * T * heads, config.headDim]
      rope.byHeads.set(heads, { cos: tf.tensor2d(rows.cos, shape), sin: tf.tensor2d(rows.sin, shape) })
    }
    // The embedding is the only thing upstream of the first block: trainable only in full fine-tuning.
    let trains = this.w.trainable
    // Handed to each block as a list, so that a checkpointed block can save them (see block).
    const heads = [...rope.byHeads.keys()]
    const ropeList = [rope.swap, ...heads.flatMap((h) => [rope.byHeads.get(h)!.cos, rope.byHeads.get(h)!.sin])]
    const ropeOf = ([swap, ...tables]: tf.Tensor[]): RopeTensors =>
      ({ tokens: B * T, swap: swap as tf.Tensor2D, byHeads: new Map(heads.map((h, i) => [h, { cos: tables[2 * i] as tf.Tensor2D, sin: tables[2 * i + 1] as tf.Tensor2D }])) })
    for (let layer = 0; layer < config.numLayers; layer++) {
      ;[x, trains] = this.block(x, trains, layer, [biasAt(layer), ...ropeList],
        (xi, ti, [bias, ...ropeTensors]) => this.llamaBlock(xi, ti, layer, B, T, bias as tf.Tensor4D, ropeOf(ropeTensors)))
    }
    return this.rmsNorm(x, 'model.norm.weight')
  }
}

/**
 * d(f())/d(xs) · dy, called inside another gradient's backward pass. tfjs's engine has one active
 * tape; a gradient computed while an outer backward pass runs replaces it, and on finishing (at
 * gradient depth 0) frees the tape's saved tensors and clears it — the outer pass would then free
 * nothing at its end and fail on the cleared tape. So the outer tape is put back afterwards.
 */
function gradientsUnderOwnTape(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state
  const outer = state.activeTape
  try {
    return tf.grads(f)(xs, dy)
  } finally {
    state.activeTape = outer
  }
}

/** cap·tanh(x / cap), Gemma-2's soft-capping; x itself when cap is null. */
export function softcap<T extends tf.Tensor>(x: T, cap: number | null): T {
  return cap === null ? x : tf.mul(tf.tanh(tf.div(x, cap)), cap)
}

/** GELU, tanh approximation (GPT-2's "gelu_new", Gemma's "gelu_pytorch_tanh"). */
function geluTanh(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
}

/** Final hidden states [B·T, D]. Call inside tf.tidy (or a gradient function). */
export function forwardHidden(weights: ModelWeights, batch: TokenBatch, opts: ForwardOptions = {}): tf.Tensor2D {
  return new Forward(weights, opts).hidden(batch)
}

/** hidden [rows, D] → logits [rows, V] through the (possibly tied) head (Gemma-2: soft-capped). */
export function projectToVocab(weights: ModelWeights, hidden: tf.Tensor2D): tf.Tensor2D {
  const { weight, vocabMajor } = weights.headWeight()
  return softcap(tf.matMul(hidden, weight as tf.Tensor2D, false, vocabMajor), weights.config.gemma2?.finalLogitSoftcap ?? null)
}

/** Full logits [B, T, V]. For tests and short generation only: training never builds these. */
export function forwardLogits(weights: ModelWeights, batch: TokenBatch, opts: ForwardOptions = {}): tf.Tensor3D {
  return tf.tidy(() => {
    const logits = projectToVocab(weights, forwardHidden(weights, batch, opts)) // [B·T, V]
    return tf.reshape(logits, [batch.batchSize, batch.seqLen, weights.config.vocabSize]) // [B, T, V]
  })
}

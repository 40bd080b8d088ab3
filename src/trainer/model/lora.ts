// LoRA adapters (Hu et al. 2021) as PEFT builds them: for a frozen projection W,
//   y = x·W + (dropout(x)·A·B) · alpha/r
// (computed by frozen-linear.ts; each module draws its own dropout mask, as in PEFT)
// with A [in, r] initialised kaiming-uniform (a = √5, i.e. U(±1/√in), like nn.Linear and PEFT)
// and B [r, out] zero, so training starts exactly at the base model.
// Stored [in, r] and [r, out] for plain 2-D products; PEFT's files hold lora_A [r, in] and
// lora_B [out, r], which `toHost` produces.
import * as tf from '@tensorflow/tfjs-core'
import { dropoutMask } from './dropout-mask.ts'
import type { LoraPath } from './frozen-linear.ts'
import type { Random } from './random.ts'
import type { LoraAdapter, LoraModuleWeights, ModelConfig } from './types.ts'
import { nextInstanceSuffix } from './variable-names.ts'
import type { ModelWeights } from './weights.ts'

export interface LoraOptions {
  rank: number
  alpha: number
  dropout: number
  /** Module names, e.g. ["q_proj", "v_proj"] or ["c_attn"]; see defaultLoraTargets. */
  targetModules: string[]
  /** QLoRA: the frozen base's block projections held quantised to this many bits (null/absent: f32). */
  baseBits?: QuantBits | null
}

import { GPT2_LORA_MODULES, LLAMA_LORA_MODULES, PHI3_LORA_MODULES } from '../../protocol/training-settings.ts'
import type { QuantBits } from './quantised-matrix.ts'

export { GPT2_LORA_MODULES, LLAMA_LORA_MODULES, PHI3_LORA_MODULES }

/** The module names LoRA may target on this architecture: every projection of a block. */
export function loraModulesOf(config: ModelConfig): readonly string[] {
  return config.architecture === 'gpt2' ? GPT2_LORA_MODULES : config.architecture === 'phi3' ? PHI3_LORA_MODULES : LLAMA_LORA_MODULES
}

/** All projections of every block: the usual "all-linear" choice for small models. */
export function defaultLoraTargets(config: ModelConfig): string[] {
  return [...loraModulesOf(config)]
}

/** The module paths (canonical HF names without ".weight") of one block's projections. */
export function blockProjectionPaths(config: ModelConfig, layer: number): string[] {
  if (config.architecture === 'gpt2') {
    return [`h.${layer}.attn.c_attn`, `h.${layer}.attn.c_proj`, `h.${layer}.mlp.c_fc`, `h.${layer}.mlp.c_proj`]
  }
  const p = `model.layers.${layer}`
  if (config.architecture === 'phi3') {
    return [`${p}.self_attn.qkv_proj`, `${p}.self_attn.o_proj`, `${p}.mlp.gate_up_proj`, `${p}.mlp.down_proj`]
  }
  return [...['q', 'k', 'v', 'o'].map((m) => `${p}.self_attn.${m}_proj`), ...['gate', 'up', 'down'].map((m) => `${p}.mlp.${m}_proj`)]
}

export interface LoraPair {
  a: tf.Variable
  b: tf.Variable
}

export class LoraAdapters {
  readonly options: LoraOptions
  readonly scale: number
  /** By module path. */
  readonly pairs: Map<string, LoraPair>
  /** Off = the base model exactly (DPO's reference policy); no second copy of anything. */
  enabled = true
  private readonly config: ModelConfig

  private constructor(config: ModelConfig, options: LoraOptions, pairs: Map<string, LoraPair>) {
    this.config = config
    this.options = options
    this.scale = options.alpha / options.rank
    this.pairs = pairs
  }

  static create(weights: ModelWeights, options: LoraOptions, rng: Random): LoraAdapters {
    const config = weights.config
    const allowed = new Set<string>(loraModulesOf(config))
    for (const m of options.targetModules) {
      if (!allowed.has(m)) throw new Error(`LoRA target "${m}" is not a projection of ${config.architecture} (expected one of ${[...allowed].join(', ')})`)
    }
    if (!(options.rank >= 1)) throw new Error('LoRA rank must be >= 1')
    const pairs = new Map<string, LoraPair>()
    const suffix = nextInstanceSuffix()
    for (let layer = 0; layer < config.numLayers; layer++) {
      for (const path of blockProjectionPaths(config, layer)) {
        if (!options.targetModules.includes(path.slice(path.lastIndexOf('.') + 1))) continue
        const [inDim, outDim] = weights.shapeOf(`${path}.weight`)
        const bound = 1 / Math.sqrt(inDim)
        const aInit = new Float32Array(inDim * options.rank)
        for (let i = 0; i < aInit.length; i++) aInit[i] = rng.uniform(-bound, bound)
        const aInitial = tf.tensor2d(aInit, [inDim, options.rank])
        const bInitial = tf.zeros([options.rank, outDim])
        pairs.set(path, {
          a: tf.variable(aInitial, true, `lora/${path}/A${suffix}`),
          b: tf.variable(bInitial, true, `lora/${path}/B${suffix}`),
        })
        aInitial.dispose()
        bInitial.dispose()
      }
    }
    return new LoraAdapters(config, options, pairs)
  }

  variables(): tf.Variable[] {
    return [...this.pairs.values()].flatMap((p) => [p.a, p.b])
  }

  /** Whether module `path` has an adapter that is on. */
  adapts(path: string): boolean {
    return this.enabled && this.pairs.has(path)
  }

  /**
   * Module `path`'s adapter for `tokens` input rows, as frozenLinear takes it,
   * or null when the module has none or adapters are off. With a dropout seed (training) the
   * dropout mask is drawn here, alpha/r folded into it; the seed makes it repeatable.
   */
  pathFor(path: string, tokens: number, dropoutSeed: number | null): LoraPath | null {
    const pair = this.pairs.get(path)
    if (!pair || !this.enabled) return null
    const rate = this.options.dropout
    if (!(rate > 0) || dropoutSeed === null) return { a: pair.a, b: pair.b, mask: null, scale: this.scale }
    const mask = dropoutMask(dropoutSeed, tokens, pair.a.shape[0], rate, this.scale / (1 - rate))
    return { a: pair.a, b: pair.b, mask, scale: 1 }
  }

  /**
   * Sets every adapter to `adapter`'s weights (a PEFT adapter as toHost writes it and
   * readPeftAdapter reads it), to continue training from a fine-tuned model. It must have the
   * same rank and exactly these modules.
   */
  assign(adapter: LoraAdapter): void {
    if (adapter.rank !== this.options.rank) throw new Error(`the adapter has rank ${adapter.rank}, not ${this.options.rank}`)
    const prefix = this.config.architecture === 'gpt2' ? 'transformer.' : ''
    if (adapter.modules.size !== this.pairs.size) throw new Error(`the adapter has ${adapter.modules.size} modules, not ${this.pairs.size}`)
    for (const [path, pair] of this.pairs) {
      const m = adapter.modules.get(`${prefix}${path}`)
      if (!m) throw new Error(`the adapter has no weights for ${path}`)
      // Stored as PEFT's lora_A [r, in] and lora_B [out, r]: the transposes of the variables.
      pair.a.assign(tf.tidy(() => tf.transpose(tf.tensor(m.a.data, m.a.shape))))
      pair.b.assign(tf.tidy(() => tf.transpose(tf.tensor(m.b.data, m.b.shape))))
    }
  }

  /**
   * The adapter as host tensors in PEFT's layout (A [r, in], B [out, r]), keyed by HF module
   * name — GPT-2's with its "transformer." prefix — for src/trainer/export.
   */
  async toHost(): Promise<LoraAdapter> {
    const modules = new Map<string, LoraModuleWeights>()
    const prefix = this.config.architecture === 'gpt2' ? 'transformer.' : ''
    for (const [path, { a, b }] of this.pairs) {
      const [aT, bT] = [tf.transpose(a), tf.transpose(b)]
      modules.set(`${prefix}${path}`, {
        a: { shape: aT.shape.slice(), data: (await aT.data()) as Float32Array },
        b: { shape: bT.shape.slice(), data: (await bT.data()) as Float32Array },
      })
      tf.dispose([aT, bT])
    }
    const { rank, alpha, dropout, targetModules } = this.options
    return { rank, alpha, dropout, targetModules: [...targetModules], modules }
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose()
    this.pairs.clear()
  }
}

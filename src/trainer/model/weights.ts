// The base model's weights as tfjs tensors, in the layout the forward pass multiplies with.
//
// Layout rule: every projection is stored [in, out] so that `x[tokens, in] · W[in, out]` is a
// plain 2-D product (the fast path on every backend, and on wasm XNNPACK packs a frozen W once).
// HF's nn.Linear weights are [out, in] and are transposed once here; GPT-2's Conv1D weights
// are already [in, out]. Embeddings stay [vocab, hidden].
import * as tf from '@tensorflow/tfjs-core'
import { dequantiseValues, quantiseMatrix, type ProjectionWeight, type QuantBits, type QuantisedMatrix } from './quantised-matrix.ts'
import type { HostTensor, HostTensors, ModelConfig } from './types.ts'
import { nextInstanceSuffix } from './variable-names.ts'

/** HF names are looked up without GPT-2's optional "transformer." prefix. */
export function canonicalName(name: string): string {
  return name.startsWith('transformer.') ? name.slice('transformer.'.length) : name
}

/** True for HF weights of nn.Linear layers ([out, in] on disk). */
function isLinearWeight(config: ModelConfig, name: string): boolean {
  if (name === 'lm_head.weight') return true
  return config.architecture !== 'gpt2' && name.endsWith('_proj.weight')
}

/** Buffers some checkpoints carry that are not parameters (GPT-2's causal-mask "attn.bias"). */
function isBuffer(config: ModelConfig, name: string): boolean {
  return config.architecture === 'gpt2' && /\.attn\.(masked_)?bias$/.test(name)
}

/** Projections a quantised base holds quantised: every 2-D weight of a block (not embeddings, head or norms). */
function isBlockProjection(config: ModelConfig, name: string, shape: number[]): boolean {
  if (shape.length !== 2 || name === 'lm_head.weight') return false
  return config.architecture === 'gpt2' ? /^h\.\d+\.(attn|mlp)\.c_\w+\.weight$/.test(name) : name.endsWith('_proj.weight')
}

function transpose2d(t: HostTensor): HostTensor {
  const [rows, cols] = t.shape
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]
  return { shape: [cols, rows], data: out }
}

export class ModelWeights {
  readonly config: ModelConfig
  /** By canonical HF name, in compute layout. tf.Variable when trainable. */
  readonly tensors: Map<string, tf.Tensor>
  readonly trainable: boolean
  /** QLoRA: the block projections held quantised (by canonical name, [in, out]), not in `tensors`. */
  readonly quantised: Map<string, QuantisedMatrix>
  /** Canonical name → the name it had on disk, to write it back the same way. */
  private readonly diskNames: Map<string, string>
  /** A frozen head in [hidden, vocab] layout, made on first use (see headWeight). */
  private frozenHeadT: tf.Tensor | null = null

  private constructor(config: ModelConfig, tensors: Map<string, tf.Tensor>, diskNames: Map<string, string>, trainable: boolean, quantised: Map<string, QuantisedMatrix>) {
    this.config = config
    this.tensors = tensors
    this.quantised = quantised
    this.diskNames = diskNames
    this.trainable = trainable
  }

  /**
   * Uploads host weights. `trainable` makes every weight a tf.Variable (full fine-tuning);
   * `quantise` holds the frozen block projections quantised to 8 or 4 bits instead (QLoRA).
   */
  static fromHost(config: ModelConfig, host: HostTensors, opts: { trainable: boolean; quantise?: QuantBits | null }): ModelWeights {
    if (opts.trainable && opts.quantise) throw new Error('a quantised base cannot be trained')
    const tensors = new Map<string, tf.Tensor>()
    const quantised = new Map<string, QuantisedMatrix>()
    const diskNames = new Map<string, string>()
    const suffix = nextInstanceSuffix()
    for (const [diskName, hostTensor] of host) {
      const name = canonicalName(diskName)
      if (isBuffer(config, name)) continue
      const laidOut = isLinearWeight(config, name) ? transpose2d(hostTensor) : hostTensor
      diskNames.set(name, diskName)
      if (opts.quantise && isBlockProjection(config, name, laidOut.shape)) {
        quantised.set(name, quantiseMatrix(laidOut.data, laidOut.shape as [number, number], opts.quantise))
        continue
      }
      const t = tf.tensor(laidOut.data, laidOut.shape, 'float32')
      tensors.set(name, opts.trainable ? tf.variable(t, true, `w/${name}${suffix}`) : t)
      if (opts.trainable) t.dispose()
    }
    // A tied checkpoint may still ship lm_head.weight; the embedding is the one that trains.
    if (config.tieWordEmbeddings && tensors.has('lm_head.weight')) {
      tensors.get('lm_head.weight')!.dispose()
      tensors.delete('lm_head.weight')
      diskNames.delete('lm_head.weight')
    }
    return new ModelWeights(config, tensors, diskNames, opts.trainable, quantised)
  }

  /** A projection's weight [in, out]: resident, or quantised (dequantised per product by frozenLinear). */
  projection(name: string): ProjectionWeight {
    return this.quantised.get(name) ?? (this.get(name) as tf.Tensor2D)
  }

  shapeOf(name: string): number[] {
    return this.quantised.get(name)?.shape ?? this.get(name).shape
  }

  get(name: string): tf.Tensor {
    const t = this.tensors.get(name)
    if (!t) throw new Error(`missing weight ${name}`)
    return t
  }

  maybe(name: string): tf.Tensor | null {
    return this.tensors.get(name) ?? null
  }

  embeddingName(): string {
    return this.config.architecture === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight'
  }

  /**
   * The output projection. Returns the weight and whether it is [vocab, hidden] (used as
   * h · Wᵀ) or [hidden, vocab] (h · W). A frozen head is transposed once and cached, so the
   * per-step product has no transpose; a trainable one is used as stored.
   */
  headWeight(): { weight: tf.Tensor; vocabMajor: boolean } {
    const tied = this.config.tieWordEmbeddings || !this.tensors.has('lm_head.weight')
    if (!tied) return { weight: this.get('lm_head.weight'), vocabMajor: false }
    const emb = this.get(this.embeddingName())
    if (this.trainable) return { weight: emb, vocabMajor: true }
    // Usually first called inside a tidy: keep() stops the cache being swept with it.
    this.frozenHeadT ??= tf.keep(tf.transpose(emb))
    return { weight: this.frozenHeadT, vocabMajor: false }
  }

  variables(): tf.Variable[] {
    return this.trainable ? [...this.tensors.values()] as tf.Variable[] : []
  }

  /** Back to host tensors with the on-disk names and HF layout (for checkpoints and exports); a quantised projection dequantised. */
  async toHost(): Promise<HostTensors> {
    const out: HostTensors = new Map()
    const put = (name: string, host: HostTensor) => out.set(this.diskNames.get(name) ?? name, isLinearWeight(this.config, name) ? transpose2d(host) : host)
    for (const [name, t] of this.tensors) put(name, { shape: t.shape.slice(), data: (await t.data()) as Float32Array })
    for (const [name, m] of this.quantised) put(name, { shape: [...m.shape], data: dequantiseValues(m) })
    return out
  }

  /** Overwrites weights from host tensors in HF layout (resume of a full fine-tune). */
  assignFromHost(host: HostTensors): void {
    for (const [diskName, hostTensor] of host) {
      const name = canonicalName(diskName)
      const current = this.tensors.get(name)
      if (!current) continue
      const laidOut = isLinearWeight(this.config, name) ? transpose2d(hostTensor) : hostTensor
      const fresh = tf.tensor(laidOut.data, laidOut.shape, 'float32')
      ;(current as tf.Variable).assign(fresh)
      fresh.dispose()
    }
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose()
    this.tensors.clear()
    this.quantised.clear()
    this.frozenHeadT?.dispose()
    this.frozenHeadT = null
  }
}

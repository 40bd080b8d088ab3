// A deliberately plain forward pass (one token at a time, float64 math, HF weight names and HF
// conventions: rotate_half RoPE, Conv1D for GPT-2) used as the golden reference in tests.
// Optional LoRA adapters are applied unmerged: y = x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ.
import type { HostTensor, HostTensors, ModelConfig } from '../../../src/trainer/model/types.ts'
import { floatToHalf, halfToFloat } from '../../../src/trainer/io/float16.ts'

export interface ReferenceLora {
  scale: number
  /** By module name, e.g. "model.layers.0.self_attn.q_proj": A [r, in], B [out, r]. */
  modules: Map<string, { a: HostTensor; b: HostTensor }>
}

type Vec = Float64Array

function get(weights: HostTensors, name: string): HostTensor {
  const t = weights.get(name)
  if (!t) throw new Error(`reference: missing ${name}`)
  return t
}

/** y = W x for W stored [out, in] (nn.Linear). */
function matVec(w: HostTensor, x: Vec): Vec {
  const [rows, cols] = w.shape
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let c = 0; c < cols; c++) s += w.data[r * cols + c] * x[c]
    y[r] = s
  }
  return y
}

/** y = x W for W stored [in, out] (GPT-2 Conv1D). */
function vecMat(x: Vec, w: HostTensor): Vec {
  const [rows, cols] = w.shape
  const y = new Float64Array(cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[c] += x[r] * w.data[r * cols + c]
  return y
}

function addInPlace(a: Vec, b: Vec | Float32Array, scale = 1): Vec {
  for (let i = 0; i < a.length; i++) a[i] += scale * b[i]
  return a
}

function rmsNorm(x: Vec, w: HostTensor, eps: number): Vec {
  let ss = 0
  for (const v of x) ss += v * v
  const inv = 1 / Math.sqrt(ss / x.length + eps)
  return x.map((v, i) => v * inv * w.data[i])
}

function layerNorm(x: Vec, w: HostTensor, b: HostTensor, eps: number): Vec {
  const mean = x.reduce((a, v) => a + v, 0) / x.length
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length
  const inv = 1 / Math.sqrt(variance + eps)
  return x.map((v, i) => (v - mean) * inv * w.data[i] + b.data[i])
}

const silu = (v: number) => v / (1 + Math.exp(-v))
const geluNew = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))

/**
 * llama.cpp's CPU GELU (GGML_GELU_FP16) looks the input up in a half-precision table: the input is
 * rounded to f16 and so is the output. Reproducing that isolates every other source of error.
 */
const geluFp16Table = (v: number) => (v <= -10 ? 0 : v >= 10 ? v : roundToHalf(geluNew(roundToHalf(v))))
const roundToHalf = (v: number) => halfToFloat(floatToHalf(v))

export interface ReferenceOptions {
  lora?: ReferenceLora
  /** Use llama.cpp's f16-table GELU instead of the exact one (GPT-2, Gemma-2). */
  ggmlGelu?: boolean
}

/**
 * HF's inverse frequencies, including its Llama-3, linear and longrope rope_scaling rules
 * (longrope: short factors unless the sequence, `seqLen` tokens, outgrows the original context).
 */
function inverseFrequencies(config: ModelConfig, seqLen: number): Float64Array {
  const dim = config.headDim
  const inv = new Float64Array(dim / 2).map((_, i) => 1 / config.ropeTheta ** ((2 * i) / dim))
  const rs = config.ropeScaling
  if (rs?.type === 'linear') return inv.map((f) => f / rs.factor)
  if (rs?.type === 'longrope') {
    const ext = seqLen > rs.originalMaxPositionEmbeddings ? rs.longFactor : rs.shortFactor
    return Float64Array.from({ length: dim / 2 }, (_, i) => 1 / (ext[i] * config.ropeTheta ** ((2 * i) / dim)))
  }
  if (rs?.type !== 'llama3') return inv
  const old = rs.originalMaxPositionEmbeddings ?? 8192
  const low = rs.lowFreqFactor ?? 1
  const high = rs.highFreqFactor ?? 4
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f
    if (wavelen < old / high) return f
    if (wavelen > old / low) return f / rs.factor
    const smooth = (old / wavelen - low) / (high - low)
    return (1 - smooth) * (f / rs.factor) + smooth * f
  })
}

/** rotate_half RoPE on one head vector (pairs i and i + d/2), cos and sin times `scale` (longrope). */
function rope(x: Vec, offset: number, headDim: number, position: number, inv: Float64Array, scale: number): void {
  const half = headDim / 2
  for (let i = 0; i < half; i++) {
    const angle = position * inv[i]
    const c = Math.cos(angle) * scale
    const s = Math.sin(angle) * scale
    const x1 = x[offset + i]
    const x2 = x[offset + i + half]
    x[offset + i] = x1 * c - x2 * s
    x[offset + i + half] = x2 * c + x1 * s
  }
}

/** Causal multi-head attention for the newest position over cached keys/values (only those given: a sliding window passes the last few). */
function attend(q: Vec, keys: Vec[], values: Vec[], numHeads: number, numKvHeads: number, headDim: number,
  scoring: { scale: number; cap: number | null } = { scale: 1 / Math.sqrt(headDim), cap: null }): Vec {
  const out = new Float64Array(numHeads * headDim)
  const group = numHeads / numKvHeads
  for (let h = 0; h < numHeads; h++) {
    const kvh = Math.floor(h / group)
    const scores = keys.map((k) => {
      let s = 0
      for (let i = 0; i < headDim; i++) s += q[h * headDim + i] * k[kvh * headDim + i]
      const scaled = s * scoring.scale
      return scoring.cap === null ? scaled : scoring.cap * Math.tanh(scaled / scoring.cap)
    })
    const max = Math.max(...scores)
    const exps = scores.map((s) => Math.exp(s - max))
    const total = exps.reduce((a, b) => a + b, 0)
    exps.forEach((e, j) => {
      for (let i = 0; i < headDim; i++) out[h * headDim + i] += (e / total) * values[j][kvh * headDim + i]
    })
  }
  return out
}

function toVec(t: HostTensor, row: number, width: number): Vec {
  return Float64Array.from(t.data.subarray(row * width, (row + 1) * width))
}

/** Logits after each token (row t predicts token t + 1). */
export function referenceLogits(config: ModelConfig, weights: HostTensors, tokens: number[], options: ReferenceOptions = {}): Float64Array[] {
  return config.architecture === 'gpt2'
    ? gpt2Logits(config, weights, tokens, options.lora, options.ggmlGelu ? geluFp16Table : geluNew)
    : llamaLogits(config, weights, tokens, options.lora, options.ggmlGelu ? geluFp16Table : geluNew)
}

function llamaLogits(config: ModelConfig, w: HostTensors, tokens: number[], lora: ReferenceLora | undefined, gelu: (v: number) => number): Float64Array[] {
  const { hiddenSize: d, numHeads, numKvHeads, headDim, normEps: eps, slidingWindow } = config
  const inv = inverseFrequencies(config, tokens.length)
  const scale = config.ropeScaling?.type === 'longrope' ? config.ropeScaling.attentionFactor : 1
  const nq = numHeads * headDim
  const nkv = numKvHeads * headDim
  const linear = (module: string, x: Vec): Vec => {
    const y = matVec(get(w, `${module}.weight`), x)
    const bias = w.get(`${module}.bias`)
    if (bias) addInPlace(y, bias.data)
    const adapter = lora?.modules.get(module)
    if (adapter) addInPlace(y, matVec(adapter.b, matVec(adapter.a, x)), lora!.scale)
    return y
  }
  const cache = Array.from({ length: config.numLayers }, () => ({ keys: [] as Vec[], values: [] as Vec[] }))
  const embed = get(w, 'model.embed_tokens.weight')
  const head = config.tieWordEmbeddings ? embed : get(w, 'lm_head.weight')
  // Gemma-2: √D embeddings, (1 + w) norm gains, sandwich norms, GELU gate, query_pre_attn_scalar, caps, even layers windowed.
  const gemma = config.gemma2
  const norm = (x: Vec, name: string) => {
    const weight = get(w, name)
    return rmsNorm(x, gemma ? { shape: weight.shape, data: weight.data.map((g) => 1 + g) } : weight, eps)
  }
  const scoring = { scale: 1 / Math.sqrt(gemma ? gemma.queryPreAttnScalar : headDim), cap: gemma?.attnLogitSoftcap ?? null }
  return tokens.map((token, position) => {
    let x = toVec(embed, token, d)
    if (gemma) x = x.map((v) => v * Math.fround(Math.sqrt(d)))
    for (let l = 0; l < config.numLayers; l++) {
      const p = `model.layers.${l}`
      const h = norm(x, `${p}.input_layernorm.weight`)
      // Phi-3 packs q, k, v in qkv_proj and gate, up in gate_up_proj; the others have one projection each.
      const qkv = config.architecture === 'phi3' ? linear(`${p}.self_attn.qkv_proj`, h) : null
      const q = qkv ? qkv.slice(0, nq) : linear(`${p}.self_attn.q_proj`, h)
      const k = qkv ? qkv.slice(nq, nq + nkv) : linear(`${p}.self_attn.k_proj`, h)
      const v = qkv ? qkv.slice(nq + nkv) : linear(`${p}.self_attn.v_proj`, h)
      for (let hh = 0; hh < numHeads; hh++) rope(q, hh * headDim, headDim, position, inv, scale)
      for (let hh = 0; hh < numKvHeads; hh++) rope(k, hh * headDim, headDim, position, inv, scale)
      cache[l].keys.push(k)
      cache[l].values.push(v)
      const window = gemma && l % 2 === 1 ? null : slidingWindow
      const from = window === null ? 0 : Math.max(0, position + 1 - window)
      const attn = linear(`${p}.self_attn.o_proj`, attend(q, cache[l].keys.slice(from), cache[l].values.slice(from), numHeads, numKvHeads, headDim, scoring))
      x = addInPlace(x, gemma ? norm(attn, `${p}.post_attention_layernorm.weight`) : attn)
      const h2 = norm(x, gemma ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`)
      const gateUp = config.architecture === 'phi3' ? linear(`${p}.mlp.gate_up_proj`, h2) : null
      const gate = gateUp ? gateUp.slice(0, config.intermediateSize) : linear(`${p}.mlp.gate_proj`, h2)
      const up = gateUp ? gateUp.slice(config.intermediateSize) : linear(`${p}.mlp.up_proj`, h2)
      const mlp = linear(`${p}.mlp.down_proj`, gate.map((g, i) => (gemma ? gelu(g) : silu(g)) * up[i]))
      x = addInPlace(x, gemma ? norm(mlp, `${p}.post_feedforward_layernorm.weight`) : mlp)
    }
    const logits = matVec(head, norm(x, 'model.norm.weight'))
    const cap = gemma?.finalLogitSoftcap ?? null
    return cap === null ? logits : logits.map((z) => cap * Math.tanh(z / cap))
  })
}

function gpt2Logits(config: ModelConfig, w: HostTensors, tokens: number[], lora: ReferenceLora | undefined, gelu: (v: number) => number): Float64Array[] {
  const { hiddenSize: d, numHeads, headDim, normEps: eps } = config
  // Conv1D: weight [in, out]; a PEFT adapter on it still has A [r, in] and B [out, r].
  const conv1d = (module: string, x: Vec): Vec => {
    const y = addInPlace(vecMat(x, get(w, `${module}.weight`)), get(w, `${module}.bias`).data)
    const adapter = lora?.modules.get(module)
    if (adapter) addInPlace(y, matVec(adapter.b, matVec(adapter.a, x)), lora!.scale)
    return y
  }
  const wte = get(w, 'transformer.wte.weight')
  const wpe = get(w, 'transformer.wpe.weight')
  const cache = Array.from({ length: config.numLayers }, () => ({ keys: [] as Vec[], values: [] as Vec[] }))
  return tokens.map((token, position) => {
    let x = addInPlace(toVec(wte, token, d), toVec(wpe, position, d))
    for (let l = 0; l < config.numLayers; l++) {
      const p = `transformer.h.${l}`
      const h = layerNorm(x, get(w, `${p}.ln_1.weight`), get(w, `${p}.ln_1.bias`), eps)
      const qkv = conv1d(`${p}.attn.c_attn`, h)
      cache[l].keys.push(qkv.slice(d, 2 * d))
      cache[l].values.push(qkv.slice(2 * d, 3 * d))
      const a = attend(qkv.slice(0, d), cache[l].keys, cache[l].values, numHeads, numHeads, headDim)
      x = addInPlace(x, conv1d(`${p}.attn.c_proj`, a))
      const h2 = layerNorm(x, get(w, `${p}.ln_2.weight`), get(w, `${p}.ln_2.bias`), eps)
      x = addInPlace(x, conv1d(`${p}.mlp.c_proj`, conv1d(`${p}.mlp.c_fc`, h2).map(gelu)))
    }
    return matVec(wte, layerNorm(x, get(w, 'transformer.ln_f.weight'), get(w, 'transformer.ln_f.bias'), eps))
  })
}

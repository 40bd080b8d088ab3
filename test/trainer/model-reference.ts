// An independent reference forward pass: plain float64 loops over HF-layout host weights,
// written from the transformers modelling code (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, GPT2LMHeadModel) with no tfjs, no reshapes and no shared
// code with src/trainer/model except the rope frequency rule (which the llama.cpp golden tests
// check against an independent implementation in helpers/reference-forward.ts).
import { ropeInverseFrequencies } from '../../src/trainer/model/rope.ts'
import type { HostTensors, ModelConfig } from '../../src/trainer/model/types.ts'

type Mat = Float64Array[] // rows

function weight(w: HostTensors, name: string): { shape: number[]; data: Float32Array } {
  const t = w.get(name) ?? w.get(`transformer.${name}`)
  if (!t) throw new Error(`reference: missing ${name}`)
  return t
}

/** y[t] = x[t] · Wᵀ + b for an nn.Linear weight [out, in]. */
function linear(x: Mat, w: { shape: number[]; data: Float32Array }, b?: { data: Float32Array }): Mat {
  const [out, inp] = w.shape
  return x.map((row) => {
    const y = new Float64Array(out)
    for (let o = 0; o < out; o++) {
      let s = b ? b.data[o] : 0
      for (let i = 0; i < inp; i++) s += row[i] * w.data[o * inp + i]
      y[o] = s
    }
    return y
  })
}

/** y[t] = x[t] · W + b for a GPT-2 Conv1D weight [in, out]. */
function conv1d(x: Mat, w: { shape: number[]; data: Float32Array }, b: { data: Float32Array }): Mat {
  const [inp, out] = w.shape
  return x.map((row) => {
    const y = new Float64Array(out)
    for (let o = 0; o < out; o++) {
      let s = b.data[o]
      for (let i = 0; i < inp; i++) s += row[i] * w.data[i * out + o]
      y[o] = s
    }
    return y
  })
}

function rmsNorm(x: Mat, g: Float32Array, eps: number): Mat {
  return x.map((row) => {
    let ms = 0
    for (const v of row) ms += v * v
    const r = 1 / Math.sqrt(ms / row.length + eps)
    return row.map((v, i) => v * r * g[i])
  })
}

function layerNorm(x: Mat, g: Float32Array, b: Float32Array, eps: number): Mat {
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length
    const r = 1 / Math.sqrt(variance + eps)
    return row.map((v, i) => (v - mean) * r * g[i] + b[i])
  })
}

const add = (a: Mat, b: Mat): Mat => a.map((row, t) => row.map((v, i) => v + b[t][i]))

/** One sequence's causal attention; mask[j] = 0 hides key j. q: [T, H·Dh], k/v: [T, Hkv·Dh]. */
function attention(c: ModelConfig, q: Mat, k: Mat, v: Mat, mask: number[], rope: boolean, window: number | null): Mat {
  const T = q.length
  const { numHeads: H, numKvHeads: Hkv, headDim: Dh } = c
  const half = Dh / 2
  const inv = ropeInverseFrequencies(c, T)
  // longrope scales cos and sin (transformers' attention_scaling).
  const scale = c.ropeScaling?.type === 'longrope' ? c.ropeScaling.attentionFactor : 1
  const rot = (vec: Float64Array, head: number, pos: number) => {
    const out = new Float64Array(Dh)
    for (let i = 0; i < Dh; i++) out[i] = vec[head * Dh + i]
    if (!rope) return out
    const x = out.slice()
    for (let i = 0; i < half; i++) {
      const a = pos * inv[i]
      const [cos, sin] = [Math.cos(a) * scale, Math.sin(a) * scale]
      out[i] = x[i] * cos - x[i + half] * sin
      out[i + half] = x[i + half] * cos + x[i] * sin
    }
    return out
  }
  const out: Mat = Array.from({ length: T }, () => new Float64Array(H * Dh))
  for (let h = 0; h < H; h++) {
    const kvh = Math.floor(h / (H / Hkv)) // repeat_kv: head h reads kv head h // G
    const keys = k.map((row, j) => rot(row, kvh, j))
    for (let i = 0; i < T; i++) {
      const qi = rot(q[i], h, i)
      const scores: number[] = []
      for (let j = 0; j < T; j++) {
        // Sliding window: only the last `window` keys, itself included.
        const outside = window !== null && i - j >= window
        if (j > i || outside || mask[j] === 0) { scores.push(-Infinity); continue }
        let s = 0
        for (let d = 0; d < Dh; d++) s += qi[d] * keys[j][d]
        // Gemma2Attention: scaling query_pre_attn_scalar^-½, then cap·tanh(score / cap).
        const scaled = s / Math.sqrt(c.gemma2 ? c.gemma2.queryPreAttnScalar : Dh)
        const cap = c.gemma2?.attnLogitSoftcap ?? null
        scores.push(cap === null ? scaled : cap * Math.tanh(scaled / cap))
      }
      const max = Math.max(...scores)
      // A padded query whose keys are all hidden: uniform over all keys (what a large
      // negative bias gives); only compared on real positions anyway.
      const ex = scores.map((s) => (max === -Infinity ? 1 : Math.exp(s - max)))
      const z = ex.reduce((a, b) => a + b, 0)
      for (let j = 0; j < T; j++) {
        const p = ex[j] / z
        for (let d = 0; d < Dh; d++) out[i][h * Dh + d] += p * v[j][kvh * Dh + d]
      }
    }
  }
  return out
}

/** Logits [T][V] of one right-padded sequence. */
export function referenceLogits(c: ModelConfig, w: HostTensors, ids: number[], mask: number[]): Mat {
  const g = (name: string) => weight(w, name)
  const T = ids.length
  const D = c.hiddenSize
  if (c.architecture === 'gpt2') {
    const wte = g('wte.weight').data
    const wpe = g('wpe.weight').data
    let x: Mat = ids.map((id, t) => Float64Array.from({ length: D }, (_, i) => wte[id * D + i] + wpe[t * D + i]))
    for (let l = 0; l < c.numLayers; l++) {
      const p = `h.${l}`
      const h = layerNorm(x, g(`${p}.ln_1.weight`).data, g(`${p}.ln_1.bias`).data, c.normEps)
      const qkv = conv1d(h, g(`${p}.attn.c_attn.weight`), g(`${p}.attn.c_attn.bias`))
      const q = qkv.map((r) => r.slice(0, D)), k = qkv.map((r) => r.slice(D, 2 * D)), v = qkv.map((r) => r.slice(2 * D))
      x = add(x, conv1d(attention(c, q, k, v, mask, false, null), g(`${p}.attn.c_proj.weight`), g(`${p}.attn.c_proj.bias`)))
      const m = layerNorm(x, g(`${p}.ln_2.weight`).data, g(`${p}.ln_2.bias`).data, c.normEps)
      const fc = conv1d(m, g(`${p}.mlp.c_fc.weight`), g(`${p}.mlp.c_fc.bias`))
      const act = fc.map((r) => r.map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)))))
      x = add(x, conv1d(act, g(`${p}.mlp.c_proj.weight`), g(`${p}.mlp.c_proj.bias`)))
    }
    x = layerNorm(x, g('ln_f.weight').data, g('ln_f.bias').data, c.normEps)
    return linear(x, { shape: [c.vocabSize, D], data: wte })
  }
  const emb = g('model.embed_tokens.weight').data
  const gemma = c.gemma2
  // Gemma2Model: embeddings times √D as a float32; Gemma2RMSNorm: x̂ · (1 + w).
  const embScale = gemma ? Math.fround(Math.sqrt(D)) : 1
  let x: Mat = ids.map((id) => Float64Array.from({ length: D }, (_, i) => emb[id * D + i] * embScale))
  const norm = (y: Mat, name: string) => rmsNorm(y, gemma ? g(name).data.map((w) => 1 + w) : g(name).data, c.normEps)
  const bias = (name: string) => (c.attentionBias ? g(name) : undefined)
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`
    const h = norm(x, `${p}.input_layernorm.weight`)
    let q: Mat, k: Mat, v: Mat
    if (c.architecture === 'phi3') {
      // Phi3Attention: qkv_proj's output is q, then k, then v.
      const qkv = linear(h, g(`${p}.self_attn.qkv_proj.weight`))
      const [nq, nkv] = [c.numHeads * c.headDim, c.numKvHeads * c.headDim]
      ;[q, k, v] = [qkv.map((r) => r.slice(0, nq)), qkv.map((r) => r.slice(nq, nq + nkv)), qkv.map((r) => r.slice(nq + nkv))]
    } else {
      q = linear(h, g(`${p}.self_attn.q_proj.weight`), bias(`${p}.self_attn.q_proj.bias`))
      k = linear(h, g(`${p}.self_attn.k_proj.weight`), bias(`${p}.self_attn.k_proj.bias`))
      v = linear(h, g(`${p}.self_attn.v_proj.weight`), bias(`${p}.self_attn.v_proj.bias`))
    }
    // Gemma-2 windows its even layers only (layer_types: sliding, full, sliding, …).
    const window = gemma && l % 2 === 1 ? null : c.slidingWindow
    const attn = linear(attention(c, q, k, v, mask, true, window), g(`${p}.self_attn.o_proj.weight`))
    // Gemma2DecoderLayer: post_attention_layernorm on the attention's output, pre_feedforward_layernorm before the MLP.
    x = add(x, gemma ? norm(attn, `${p}.post_attention_layernorm.weight`) : attn)
    const m = norm(x, gemma ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`)
    let gate: Mat, up: Mat
    if (c.architecture === 'phi3') {
      // Phi3MLP: gate_up_proj's output chunks into gate, then up.
      const gateUp = linear(m, g(`${p}.mlp.gate_up_proj.weight`))
      ;[gate, up] = [gateUp.map((r) => r.slice(0, c.intermediateSize)), gateUp.map((r) => r.slice(c.intermediateSize))]
    } else {
      gate = linear(m, g(`${p}.mlp.gate_proj.weight`))
      up = linear(m, g(`${p}.mlp.up_proj.weight`))
    }
    // SiLU, or Gemma's gelu_pytorch_tanh.
    const gelu = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)))
    const act = gate.map((r, t) => r.map((u, i) => (gemma ? gelu(u) : u / (1 + Math.exp(-u))) * up[t][i]))
    const mlp = linear(act, g(`${p}.mlp.down_proj.weight`))
    x = add(x, gemma ? norm(mlp, `${p}.post_feedforward_layernorm.weight`) : mlp)
  }
  x = norm(x, 'model.norm.weight')
  const head = c.tieWordEmbeddings ? { shape: [c.vocabSize, D], data: emb } : g('lm_head.weight')
  const cap = gemma?.finalLogitSoftcap ?? null
  const logits = linear(x, head)
  return cap === null ? logits : logits.map((row) => row.map((z) => cap * Math.tanh(z / cap)))
}

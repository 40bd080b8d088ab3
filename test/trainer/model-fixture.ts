// In-memory models for the compute tests: a ModelConfig and seeded random HF-named,
// HF-layout weights (nn.Linear [out, in], GPT-2 Conv1D [in, out]).
import { Random } from '../../src/trainer/model/random.ts'
import type { Architecture, HostTensors, ModelConfig } from '../../src/trainer/model/types.ts'

export function tinyConfig(architecture: Architecture, over: Partial<ModelConfig> = {}): ModelConfig {
  const hiddenSize = over.hiddenSize ?? 32
  const numHeads = over.numHeads ?? 4
  return {
    architecture,
    hfArchitecture: { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', phi3: 'Phi3ForCausalLM', gemma2: 'Gemma2ForCausalLM', gpt2: 'GPT2LMHeadModel' }[architecture],
    vocabSize: 64,
    hiddenSize,
    intermediateSize: architecture === 'gpt2' ? 4 * hiddenSize : 48,
    numLayers: 2,
    numHeads,
    numKvHeads: architecture === 'gpt2' ? numHeads : 2,
    headDim: hiddenSize / numHeads,
    maxPositions: 128,
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    tieWordEmbeddings: architecture === 'qwen2' || architecture === 'gemma2' || architecture === 'gpt2',
    attentionBias: architecture === 'qwen2',
    slidingWindow: null,
    gemma2: architecture === 'gemma2' ? { queryPreAttnScalar: 8, attnLogitSoftcap: 0.5, finalLogitSoftcap: 3 } : null,
    bosTokenId: null,
    eosTokenId: null,
    raw: {},
    ...over,
  }
}

export function randomWeights(c: ModelConfig, seed = 1, std = 0.1): HostTensors {
  const rng = Random.fromSeed(seed)
  const w: HostTensors = new Map()
  const put = (name: string, shape: number[], fill?: number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1))
    // Uniform with the given std; norm gains near 1 so activations stay sane.
    for (let i = 0; i < data.length; i++) data[i] = fill !== undefined ? fill + rng.uniform(-0.1, 0.1) : rng.uniform(-std * Math.sqrt(3), std * Math.sqrt(3))
    w.set(name, { shape, data })
  }
  const D = c.hiddenSize, I = c.intermediateSize, V = c.vocabSize, Dh = c.headDim
  if (c.architecture === 'gpt2') {
    put('transformer.wte.weight', [V, D])
    put('transformer.wpe.weight', [c.maxPositions, D])
    for (let l = 0; l < c.numLayers; l++) {
      const p = `transformer.h.${l}`
      put(`${p}.ln_1.weight`, [D], 1); put(`${p}.ln_1.bias`, [D])
      put(`${p}.attn.c_attn.weight`, [D, 3 * D]); put(`${p}.attn.c_attn.bias`, [3 * D])
      put(`${p}.attn.c_proj.weight`, [D, D]); put(`${p}.attn.c_proj.bias`, [D])
      put(`${p}.ln_2.weight`, [D], 1); put(`${p}.ln_2.bias`, [D])
      put(`${p}.mlp.c_fc.weight`, [D, I]); put(`${p}.mlp.c_fc.bias`, [I])
      put(`${p}.mlp.c_proj.weight`, [I, D]); put(`${p}.mlp.c_proj.bias`, [D])
    }
    put('transformer.ln_f.weight', [D], 1); put('transformer.ln_f.bias', [D])
    return w
  }
  put('model.embed_tokens.weight', [V, D])
  if (c.architecture === 'phi3') {
    // Fused: qkv_proj [(H + 2·Hkv)·Dh, D], gate_up_proj [2I, D] (gate rows first).
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`
      put(`${p}.input_layernorm.weight`, [D], 1)
      put(`${p}.self_attn.qkv_proj.weight`, [(c.numHeads + 2 * c.numKvHeads) * Dh, D])
      put(`${p}.self_attn.o_proj.weight`, [D, c.numHeads * Dh])
      put(`${p}.post_attention_layernorm.weight`, [D], 1)
      put(`${p}.mlp.gate_up_proj.weight`, [2 * I, D])
      put(`${p}.mlp.down_proj.weight`, [D, I])
    }
    put('model.norm.weight', [D], 1)
    if (!c.tieWordEmbeddings) put('lm_head.weight', [V, D])
    return w
  }
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`
    put(`${p}.input_layernorm.weight`, [D], 1)
    if (c.architecture === 'gemma2') {
      put(`${p}.pre_feedforward_layernorm.weight`, [D])
      put(`${p}.post_feedforward_layernorm.weight`, [D])
    }
    put(`${p}.self_attn.q_proj.weight`, [c.numHeads * Dh, D])
    put(`${p}.self_attn.k_proj.weight`, [c.numKvHeads * Dh, D])
    put(`${p}.self_attn.v_proj.weight`, [c.numKvHeads * Dh, D])
    if (c.attentionBias) {
      put(`${p}.self_attn.q_proj.bias`, [c.numHeads * Dh])
      put(`${p}.self_attn.k_proj.bias`, [c.numKvHeads * Dh])
      put(`${p}.self_attn.v_proj.bias`, [c.numKvHeads * Dh])
    }
    put(`${p}.self_attn.o_proj.weight`, [D, c.numHeads * Dh])
    put(`${p}.post_attention_layernorm.weight`, [D], 1)
    put(`${p}.mlp.gate_proj.weight`, [I, D])
    put(`${p}.mlp.up_proj.weight`, [I, D])
    put(`${p}.mlp.down_proj.weight`, [D, I])
  }
  put('model.norm.weight', [D], 1)
  if (!c.tieWordEmbeddings) put('lm_head.weight', [V, D])
  return w
}

/** A right-padded batch from token rows; every token after the first is a target unless a mask is given. */
export function batchOf(rows: number[][], opts: { pad?: number; lossFrom?: number[] } = {}) {
  const B = rows.length
  const T = Math.max(...rows.map((r) => r.length))
  const ids = new Int32Array(B * T).fill(opts.pad ?? 0)
  const attentionMask = new Int32Array(B * T)
  const lossMask = new Int32Array(B * T)
  rows.forEach((r, b) => {
    ids.set(r, b * T)
    attentionMask.fill(1, b * T, b * T + r.length)
    lossMask.fill(1, b * T + (opts.lossFrom?.[b] ?? 1), b * T + r.length)
  })
  return { batchSize: B, seqLen: T, ids, attentionMask, lossMask }
}

// Hugging Face weights -> llama.cpp's tensor names and layouts, following convert_hf_to_gguf.py:
// - llama: Q and K rows are permuted per head (HF rotates halves, llama.cpp's "normal" rope rotates
//   adjacent pairs); K with the KV head count. Nothing else is permuted.
// - qwen2: no permutation (llama.cpp runs Qwen2 with NEOX rope, which rotates halves like HF).
// - gpt2: Conv1D weights are stored [in, out] and are transposed to [out, in]; the tied lm_head is
//   written out as output.weight.
// - phi3: no permutation (NEOX rope); the fused qkv_proj and gate_up_proj keep their packing
//   (attn_qkv, and ffn_up with the gate half first, which llama.cpp's SWIGLU splits).
// - Llama-3 rope_scaling becomes a rope_freqs tensor of per-frequency divisors; Phi-3's longrope
//   the rope_factors_short / rope_factors_long tensors.
// - gemma2: no permutation; its four norms per block get their own names, and every norm weight
//   is written as 1 + w (HF's Gemma RMSNorm multiplies by 1 + w, llama.cpp's by w); the tied
//   head is not written (llama.cpp reuses token_embd).
import type { HostTensor, HostTensors, ModelConfig } from '../model/types.ts'
import { ggufTensorTypes, type GgufFileType } from './gguf-tensor-types.ts'
import type { GgufTensor } from './gguf-writer.ts'

/**
 * permute(w, n_head) from convert_hf_to_gguf: within each head, row (half j, index i) moves to
 * row (i, j): w.reshape(n_head, 2, rows/n_head/2, cols).swapaxes(1, 2).
 */
export function permuteForRope(tensor: HostTensor, numHeads: number): HostTensor {
  const rows = tensor.shape[0]
  const cols = tensor.shape.length > 1 ? tensor.shape[1] : 1
  const half = rows / numHeads / 2
  const out = new Float32Array(tensor.data.length)
  for (let h = 0; h < numHeads; h++) {
    for (let j = 0; j < 2; j++) {
      for (let i = 0; i < half; i++) {
        const from = h * 2 * half + j * half + i
        const to = h * 2 * half + i * 2 + j
        out.set(tensor.data.subarray(from * cols, (from + 1) * cols), to * cols)
      }
    }
  }
  return { shape: tensor.shape, data: out }
}

export function transpose2d(tensor: HostTensor): HostTensor {
  const [rows, cols] = tensor.shape
  const out = new Float32Array(tensor.data.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = tensor.data[r * cols + c]
  return { shape: [cols, rows], data: out }
}

/** Llama-3 rope divisors per frequency, exactly as convert_hf_to_gguf computes rope_freqs. */
export function llama3RopeFactors(config: ModelConfig): Float32Array {
  const rs = config.ropeScaling
  if (!rs || rs.type !== 'llama3') throw new Error('llama3RopeFactors needs a llama3 rope_scaling')
  const dim = config.headDim
  const factor = rs.factor
  const low = rs.lowFreqFactor ?? 1
  const high = rs.highFreqFactor ?? 4
  const oldContext = rs.originalMaxPositionEmbeddings ?? 8192
  const lowWavelen = oldContext / low
  const highWavelen = oldContext / high
  const out = new Float32Array(dim / 2)
  for (let i = 0; i < dim / 2; i++) {
    const freq = 1 / config.ropeTheta ** ((2 * i) / dim)
    const wavelen = (2 * Math.PI) / freq
    if (wavelen < highWavelen) out[i] = 1
    else if (wavelen > lowWavelen) out[i] = factor
    else {
      const smooth = (oldContext / wavelen - low) / (high - low)
      out[i] = 1 / ((1 - smooth) / factor + smooth)
    }
  }
  return out
}

const LLAMA_LAYER_NAMES: Record<string, string> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.q_proj.bias': 'attn_q.bias',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.k_proj.bias': 'attn_k.bias',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.v_proj.bias': 'attn_v.bias',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
  // Phi-3's fused projections.
  'self_attn.qkv_proj.weight': 'attn_qkv.weight',
  'mlp.gate_up_proj.weight': 'ffn_up.weight',
}

const GPT2_LAYER_NAMES: Record<string, string> = {
  'ln_1.weight': 'attn_norm.weight',
  'ln_1.bias': 'attn_norm.bias',
  'attn.c_attn.weight': 'attn_qkv.weight',
  'attn.c_attn.bias': 'attn_qkv.bias',
  'attn.c_proj.weight': 'attn_output.weight',
  'attn.c_proj.bias': 'attn_output.bias',
  'ln_2.weight': 'ffn_norm.weight',
  'ln_2.bias': 'ffn_norm.bias',
  'mlp.c_fc.weight': 'ffn_up.weight',
  'mlp.c_fc.bias': 'ffn_up.bias',
  'mlp.c_proj.weight': 'ffn_down.weight',
  'mlp.c_proj.bias': 'ffn_down.bias',
}

/** Gemma-2's sandwich norms: post_attention_layernorm is not the MLP's input norm there. */
const GEMMA2_LAYER_NAMES: Record<string, string> = {
  ...LLAMA_LAYER_NAMES,
  'post_attention_layernorm.weight': 'post_attention_norm.weight',
  'pre_feedforward_layernorm.weight': 'ffn_norm.weight',
  'post_feedforward_layernorm.weight': 'post_ffw_norm.weight',
}

/** 1 + w, for Gemma's norm weights. */
function plusOne(tensor: HostTensor): HostTensor {
  return { shape: tensor.shape, data: tensor.data.map((w) => 1 + w) }
}

function unknownTensor(name: string): never {
  throw new Error(`GGUF export: no llama.cpp name for tensor ${name}`)
}

/** Maps (and where needed transforms) every HF tensor to its GGUF tensor, in a stable order, typed for the file type. */
export function ggufTensors(config: ModelConfig, weights: HostTensors, fileType: GgufFileType): GgufTensor[] {
  const named = llamaCppTensors(config, weights)
  const types = ggufTensorTypes(named, fileType, config.numLayers)
  return named.map((t) => ({ ...t, type: types.get(t.name)! }))
}

function llamaCppTensors(config: ModelConfig, weights: HostTensors): Omit<GgufTensor, 'type'>[] {
  const out: Omit<GgufTensor, 'type'>[] = []
  const add = (name: string, tensor: HostTensor) => out.push({ name, shape: tensor.shape, data: tensor.data })

  if (config.architecture === 'gpt2') {
    for (const [name, tensor] of weights) {
      if (name === 'transformer.wte.weight') {
        add('token_embd.weight', tensor)
        add('output.weight', tensor) // tied: llama.cpp's converter writes the copy too
      } else if (name === 'transformer.wpe.weight') add('position_embd.weight', tensor)
      else if (name === 'transformer.ln_f.weight') add('output_norm.weight', tensor)
      else if (name === 'transformer.ln_f.bias') add('output_norm.bias', tensor)
      else if (name === 'lm_head.weight') continue // same as wte
      else {
        const match = /^transformer\.h\.(\d+)\.(.+)$/.exec(name) ?? unknownTensor(name)
        const mapped = GPT2_LAYER_NAMES[match[2]] ?? unknownTensor(name)
        const conv1d = match[2].endsWith('.weight') && tensor.shape.length === 2
        add(`blk.${match[1]}.${mapped}`, conv1d ? transpose2d(tensor) : tensor)
      }
    }
    return out
  }

  const permute = config.architecture === 'llama'
  if (config.ropeScaling?.type === 'llama3') {
    out.push({ name: 'rope_freqs.weight', shape: [config.headDim / 2], data: llama3RopeFactors(config) })
  }
  if (config.ropeScaling?.type === 'longrope') {
    out.push({ name: 'rope_factors_long.weight', shape: [config.headDim / 2], data: Float32Array.from(config.ropeScaling.longFactor) })
    out.push({ name: 'rope_factors_short.weight', shape: [config.headDim / 2], data: Float32Array.from(config.ropeScaling.shortFactor) })
  }
  const gemma = config.architecture === 'gemma2'
  const layerNames = gemma ? GEMMA2_LAYER_NAMES : LLAMA_LAYER_NAMES
  for (const [name, tensor] of weights) {
    if (name === 'model.embed_tokens.weight') add('token_embd.weight', tensor)
    else if (name === 'model.norm.weight') add('output_norm.weight', gemma ? plusOne(tensor) : tensor)
    else if (name === 'lm_head.weight') {
      if (!config.tieWordEmbeddings) add('output.weight', tensor)
    } else {
      const match = /^model\.layers\.(\d+)\.(.+)$/.exec(name) ?? unknownTensor(name)
      const mapped = layerNames[match[2]] ?? unknownTensor(name)
      let value = gemma && name.endsWith('norm.weight') ? plusOne(tensor) : tensor
      if (permute && mapped.startsWith('attn_q.')) value = permuteForRope(tensor, config.numHeads)
      if (permute && mapped.startsWith('attn_k.')) value = permuteForRope(tensor, config.numKvHeads)
      add(`blk.${match[1]}.${mapped}`, value)
    }
  }
  return out
}

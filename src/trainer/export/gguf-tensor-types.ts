// Which ggml type each tensor of a GGUF file gets, for the file types Skillet writes:
// - F32, F16, Q8_0: as convert_hf_to_gguf.py --outtype writes them (1-D tensors stay F32; Q8_0
//   falls back to F16 for rows that are not whole 32-value blocks).
// - Q4_0, Q4_K_M: as llama-quantize chooses them from such a file, without an importance matrix
//   (llama.cpp src/llama-quant.cpp: tensor_allows_quantization, llama_tensor_get_type_impl,
//   tensor_type_fallback). Q4_K_M is Q4_K with Q6_K for the output matrix and for attn_v /
//   attn_qkv and ffn_down of the layers use_more_bits picks (the first and last eighth and every
//   third between); tensors whose rows are not whole blocks fall back (Q4_K → Q5_0, Q6_K → Q8_0,
//   then F16).
import type { GgufFileType } from '../../protocol/training-settings.ts'
import type { QuantType } from './ggml-quants.ts'
import { QUANT_BLOCK } from './ggml-quants.ts'

export type GgmlTypeName = 'F32' | 'F16' | QuantType

export { GGUF_FILE_TYPES, type GgufFileType } from '../../protocol/training-settings.ts'

/** llama.cpp's LLAMA_FTYPE of the file as a whole (general.file_type). */
export const LLAMA_FTYPE: Record<GgufFileType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, Q4_K_M: 15 }

export interface TensorShape {
  name: string
  /** Row-major; the last dimension is ggml's ne[0], the row being quantised. */
  shape: number[]
}

const rowLength = (t: TensorShape) => t.shape[t.shape.length - 1]
const blockSize = (type: GgmlTypeName) => (type === 'F32' || type === 'F16' ? 1 : QUANT_BLOCK[type].values)

/** tensor_allows_quantization, for the tensors our architectures have. */
function allowsQuantization(t: TensorShape): boolean {
  return t.shape.length >= 2 && t.name.endsWith('weight') && !t.name.includes('_norm.weight') && t.name !== 'position_embd.weight'
}

type Category = 'output' | 'token_embd' | 'attn_v' | 'ffn_down' | 'other'

function category(name: string): Category {
  if (name === 'output.weight') return 'output'
  if (name === 'token_embd.weight') return 'token_embd'
  if (name.includes('attn_qkv.weight') || name.includes('attn_v.weight')) return 'attn_v'
  if (name.includes('ffn_down')) return 'ffn_down'
  return 'other'
}

function useMoreBits(layer: number, layers: number): boolean {
  const eighth = Math.trunc(layers / 8)
  return layer < eighth || layer >= Math.trunc((7 * layers) / 8) || (layer - eighth) % 3 === 2
}

/** tensor_type_fallback: a type whose blocks do not divide the row becomes one whose blocks do. */
function fallback(t: TensorShape, type: GgmlTypeName): GgmlTypeName {
  const n = rowLength(t)
  if (n % blockSize(type) === 0) return type
  const smaller: GgmlTypeName = type === 'Q4_K' ? 'Q5_0' : type === 'Q6_K' ? 'Q8_0' : type
  return n % blockSize(smaller) === 0 ? smaller : 'F16'
}

/** The weight_name_comparer order llama-quantize walks tensors in: by block number, then name. */
function quantizeOrder(tensors: TensorShape[]): TensorShape[] {
  const layer = (name: string) => Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? -1)
  return [...tensors].sort((a, b) => layer(a.name) - layer(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The ggml type of every tensor (by name) in a file of the given type. */
export function ggufTensorTypes(tensors: TensorShape[], fileType: GgufFileType, numLayers: number): Map<string, GgmlTypeName> {
  const types = new Map<string, GgmlTypeName>()
  if (fileType === 'F32' || fileType === 'F16' || fileType === 'Q8_0') {
    for (const t of tensors) {
      const type: GgmlTypeName = t.shape.length < 2 || fileType === 'F32' ? 'F32' : fileType
      types.set(t.name, type === 'Q8_0' && rowLength(t) % 32 !== 0 ? 'F16' : type)
    }
    return types
  }
  const base: GgmlTypeName = fileType === 'Q4_0' ? 'Q4_0' : 'Q4_K'
  const tied = !tensors.some((t) => t.name === 'output.weight')
  const attnVCount = tensors.filter((t) => category(t.name) === 'attn_v').length
  let attnV = 0
  let ffnDown = 0
  for (const t of quantizeOrder(tensors)) {
    if (!allowsQuantization(t)) {
      types.set(t.name, t.shape.length < 2 ? 'F32' : 'F16')
      continue
    }
    const kind = category(t.name)
    let type: GgmlTypeName = base
    if (kind === 'output' || (tied && kind === 'token_embd')) {
      type = rowLength(t) % blockSize(base) !== 0 ? 'Q8_0' : 'Q6_K'
    } else if (kind === 'attn_v') {
      if (fileType === 'Q4_K_M' && useMoreBits(attnV, attnVCount)) type = 'Q6_K'
      attnV++
    } else if (kind === 'ffn_down') {
      if (fileType === 'Q4_K_M' && useMoreBits(ffnDown, numLayers)) type = 'Q6_K'
      ffnDown++
    }
    types.set(t.name, fallback(t, type))
  }
  return types
}

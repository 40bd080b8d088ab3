// The GGUF v3 container (llama.cpp's model file), written by hand:
//   "GGUF" | u32 version | u64 tensor count | u64 metadata count | metadata | tensor infos |
//   padding to the alignment | tensor data (each tensor at an aligned offset).
// Tensor dims are written innermost first (ggml's ne[0] is the row length), i.e. the REVERSE of the
// row-major shape; the bytes themselves are plain row-major.
import { open } from 'node:fs/promises'
import { floatToHalf } from '../io/float16.ts'
import { QUANT_BLOCK, QUANTIZE } from './ggml-quants.ts'
import type { GgmlTypeName } from './gguf-tensor-types.ts'

export const GGUF_ALIGNMENT = 32

/** ggml's type ids of the tensor types we write. */
export const GgmlType: Record<GgmlTypeName, number> = { F32: 0, F16: 1, Q4_0: 2, Q5_0: 6, Q8_0: 8, Q4_K: 12, Q6_K: 14 }

/** GGUF metadata value types. */
const ValueType = { UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12 } as const

export type GgufValue =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: string[] }
  | { type: 'int32[]'; value: number[] }
  | { type: 'float32[]'; value: number[] }

export interface GgufTensor {
  name: string
  /** Row-major shape, as in PyTorch / safetensors. */
  shape: number[]
  type: GgmlTypeName
  data: Float32Array
}

export function tensorByteLength(tensor: Pick<GgufTensor, 'shape' | 'type'>): number {
  const count = tensor.shape.reduce((a, b) => a * b, 1)
  if (tensor.type === 'F32') return count * 4
  if (tensor.type === 'F16') return count * 2
  const block = QUANT_BLOCK[tensor.type]
  return (count / block.values) * block.bytes
}

export function encodeTensorData(tensor: GgufTensor): Uint8Array {
  if (tensor.type === 'F32') return new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
  if (tensor.type === 'F16') {
    const halves = new Uint16Array(tensor.data.length)
    for (let i = 0; i < halves.length; i++) halves[i] = floatToHalf(tensor.data[i])
    return new Uint8Array(halves.buffer)
  }
  return QUANTIZE[tensor.type](tensor.data)
}

/** Little-endian byte builder for the header. */
class ByteBuilder {
  private chunks: Uint8Array[] = []
  length = 0
  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes)
    this.length += bytes.byteLength
  }
  private scalar(size: number, write: (view: DataView) => void): void {
    const bytes = new Uint8Array(size)
    write(new DataView(bytes.buffer))
    this.push(bytes)
  }
  u8(v: number) { this.scalar(1, (d) => d.setUint8(0, v)) }
  u32(v: number) { this.scalar(4, (d) => d.setUint32(0, v, true)) }
  i32(v: number) { this.scalar(4, (d) => d.setInt32(0, v, true)) }
  f32(v: number) { this.scalar(4, (d) => d.setFloat32(0, v, true)) }
  u64(v: number) { this.scalar(8, (d) => d.setBigUint64(0, BigInt(v), true)) }
  string(s: string) {
    const bytes = new TextEncoder().encode(s)
    this.u64(bytes.byteLength)
    this.push(bytes)
  }
  raw(bytes: Uint8Array) { this.push(bytes) }
  zeros(n: number) { this.push(new Uint8Array(n)) }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const chunk of this.chunks) {
      out.set(chunk, offset)
      offset += chunk.byteLength
    }
    return out
  }
}

function writeValue(b: ByteBuilder, value: GgufValue): void {
  switch (value.type) {
    case 'uint32': b.u32(ValueType.UINT32); b.u32(value.value); return
    case 'int32': b.u32(ValueType.INT32); b.i32(value.value); return
    case 'float32': b.u32(ValueType.FLOAT32); b.f32(value.value); return
    case 'bool': b.u32(ValueType.BOOL); b.u8(value.value ? 1 : 0); return
    case 'string': b.u32(ValueType.STRING); b.string(value.value); return
    case 'string[]':
      b.u32(ValueType.ARRAY); b.u32(ValueType.STRING); b.u64(value.value.length)
      for (const s of value.value) b.string(s)
      return
    case 'int32[]':
      b.u32(ValueType.ARRAY); b.u32(ValueType.INT32); b.u64(value.value.length)
      for (const v of value.value) b.i32(v)
      return
    case 'float32[]':
      b.u32(ValueType.ARRAY); b.u32(ValueType.FLOAT32); b.u64(value.value.length)
      for (const v of value.value) b.f32(v)
      return
  }
}

const align = (n: number) => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT

/** Writes a GGUF file, encoding one tensor at a time so only the header is held whole. */
export async function writeGguf(path: string, metadata: Map<string, GgufValue>, tensors: GgufTensor[]): Promise<void> {
  const names = new Set<string>()
  const header = new ByteBuilder()
  header.raw(new TextEncoder().encode('GGUF'))
  header.u32(3)
  header.u64(tensors.length)
  header.u64(metadata.size)
  for (const [key, value] of metadata) {
    header.string(key)
    writeValue(header, value)
  }
  let offset = 0
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw new Error(`GGUF: duplicate tensor ${tensor.name}`)
    names.add(tensor.name)
    header.string(tensor.name)
    header.u32(tensor.shape.length)
    for (const dim of [...tensor.shape].reverse()) header.u64(dim)
    header.u32(GgmlType[tensor.type])
    header.u64(offset)
    offset = align(offset + tensorByteLength(tensor))
  }
  header.zeros(align(header.length) - header.length)

  const handle = await open(path, 'w')
  try {
    await handle.write(header.toBytes())
    for (const tensor of tensors) {
      const bytes = encodeTensorData(tensor)
      await handle.write(bytes)
      const padding = align(bytes.byteLength) - bytes.byteLength
      if (padding) await handle.write(new Uint8Array(padding))
    }
  } finally {
    await handle.close()
  }
}

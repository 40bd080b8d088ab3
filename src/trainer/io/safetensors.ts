// The safetensors format, read and written by hand: an 8-byte little-endian header length, a
// JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {..}}, then the
// raw little-endian tensor bytes (offsets are relative to the end of the header).
import { open } from 'node:fs/promises'
import type { DType, HostTensor, HostTensors } from '../model/types.ts'
import { bfloat16sToFloats, floatsToHalves, halvesToFloats } from './float16.ts'

export interface SafetensorsEntry {
  dtype: string
  shape: number[]
  dataOffsets: [number, number]
}

export interface SafetensorsHeader {
  tensors: Map<string, SafetensorsEntry>
  metadata: Record<string, string>
  /** Absolute file offset where tensor data begins (8 + header length). */
  dataStart: number
}

export interface SafetensorsFile {
  tensors: HostTensors
  metadata: Record<string, string>
}

const BYTES_PER_ELEMENT: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 }

/** Largest single read Node allows (fs.read is limited to 2 GiB - 1 per call). */
const MAX_READ = 0x7fff0000

export function parseSafetensorsHeader(json: string, dataStart: number): SafetensorsHeader {
  const raw = JSON.parse(json) as Record<string, unknown>
  const tensors = new Map<string, SafetensorsEntry>()
  let metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>
      continue
    }
    const v = value as { dtype: string; shape: number[]; data_offsets: [number, number] }
    tensors.set(name, { dtype: v.dtype, shape: v.shape, dataOffsets: v.data_offsets })
  }
  return { tensors, metadata, dataStart }
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/**
 * Widens one tensor's bytes to f32. `bytes` must be 4-byte aligned for a zero-copy F32 view;
 * unaligned input (a Buffer slice from Node's pool, an odd offset in a file) is copied first.
 */
export function decodeTensor(name: string, entry: SafetensorsEntry, bytes: Uint8Array): HostTensor {
  const dtype = entry.dtype as DType
  const size = BYTES_PER_ELEMENT[dtype]
  if (size === undefined) {
    throw new Error(`safetensors: tensor ${name} has unsupported dtype ${entry.dtype} (supported: F32, F16, BF16)`)
  }
  const count = elementCount(entry.shape)
  if (bytes.byteLength !== count * size) {
    throw new Error(`safetensors: tensor ${name} has ${bytes.byteLength} bytes, expected ${count * size} for shape [${entry.shape}]`)
  }
  // new Uint8Array(view) copies into a fresh, aligned buffer (Buffer#slice would not copy).
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes)
  let data: Float32Array
  if (dtype === 'F32') {
    // Copy so the tensor owns its memory (the source may be a large shared file buffer).
    data = new Float32Array(aligned.buffer, aligned.byteOffset, count).slice()
  } else {
    const halves = new Uint16Array(aligned.buffer, aligned.byteOffset, count)
    data = dtype === 'F16' ? halvesToFloats(halves) : bfloat16sToFloats(halves)
  }
  return { shape: [...entry.shape], data }
}

/** Parses a whole safetensors file already in memory. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = Number(view.getBigUint64(0, true))
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))
  const header = parseSafetensorsHeader(json, 8 + headerLength)
  const tensors: HostTensors = new Map()
  for (const [name, entry] of header.tensors) {
    const [begin, end] = entry.dataOffsets
    tensors.set(name, decodeTensor(name, entry, bytes.subarray(header.dataStart + begin, header.dataStart + end)))
  }
  return { tensors, metadata: header.metadata }
}

/**
 * Reads a safetensors file tensor by tensor through a file handle, so files larger than the
 * 2 GiB Buffer limit (and larger than RAM would like twice) never sit in memory whole.
 * `filter` skips tensors the caller does not want without reading their bytes.
 */
export async function readSafetensorsFile(path: string, filter?: (name: string) => boolean): Promise<SafetensorsFile> {
  const handle = await open(path, 'r')
  try {
    const lengthBytes = new Uint8Array(8)
    await readFully(handle, lengthBytes, 0)
    const headerLength = Number(new DataView(lengthBytes.buffer).getBigUint64(0, true))
    const headerBytes = new Uint8Array(headerLength)
    await readFully(handle, headerBytes, 8)
    const header = parseSafetensorsHeader(new TextDecoder().decode(headerBytes), 8 + headerLength)
    const tensors: HostTensors = new Map()
    for (const [name, entry] of header.tensors) {
      if (filter && !filter(name)) continue
      const [begin, end] = entry.dataOffsets
      // A fresh ArrayBuffer is always aligned, so F32 data is viewed without another copy.
      const bytes = new Uint8Array(new ArrayBuffer(end - begin))
      await readFully(handle, bytes, header.dataStart + begin)
      tensors.set(name, decodeTensor(name, entry, bytes))
    }
    return { tensors, metadata: header.metadata }
  } finally {
    await handle.close()
  }
}

async function readFully(handle: import('node:fs/promises').FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < into.byteLength) {
    const length = Math.min(MAX_READ, into.byteLength - done)
    const { bytesRead } = await handle.read(into, done, length, position + done)
    if (bytesRead === 0) throw new Error(`safetensors: file ends early (wanted ${into.byteLength} bytes at ${position})`)
    done += bytesRead
  }
}

export interface EncodeOptions {
  /** Storage dtype; tensors are always held as f32 in memory. Default F32. */
  dtype?: 'F32' | 'F16'
  metadata?: Record<string, string>
}

/** The header bytes (length prefix + padded JSON) and total data length for `tensors` in map order. */
function encodeHeader(tensors: HostTensors, dtype: 'F32' | 'F16', metadata?: Record<string, string>): { prefix: Uint8Array; dataBytes: number } {
  const size = BYTES_PER_ELEMENT[dtype]
  const header: Record<string, unknown> = {}
  if (metadata) header.__metadata__ = metadata
  let offset = 0
  for (const [name, tensor] of tensors) {
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new Error(`safetensors: tensor ${name} has ${tensor.data.length} values for shape [${tensor.shape}]`)
    }
    const bytes = tensor.data.length * size
    header[name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] }
    offset += bytes
  }
  // Pad the header with spaces so tensor data starts 8-byte aligned (as the reference writer does).
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8)
  const jsonBytes = new TextEncoder().encode(json)
  const prefix = new Uint8Array(8 + jsonBytes.byteLength)
  new DataView(prefix.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true)
  prefix.set(jsonBytes, 8)
  return { prefix, dataBytes: offset }
}

function tensorBytes(tensor: HostTensor, dtype: 'F32' | 'F16'): Uint8Array {
  const raw = dtype === 'F32' ? tensor.data : floatsToHalves(tensor.data)
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
}

/** Serialises tensors (in map order) to safetensors bytes in memory (small files, tests). */
export function encodeSafetensors(tensors: HostTensors, options: EncodeOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'F32'
  const { prefix, dataBytes } = encodeHeader(tensors, dtype, options.metadata)
  const out = new Uint8Array(prefix.byteLength + dataBytes)
  out.set(prefix, 0)
  let position = prefix.byteLength
  for (const tensor of tensors.values()) {
    const bytes = tensorBytes(tensor, dtype)
    out.set(bytes, position)
    position += bytes.byteLength
  }
  return out
}

/** Writes tensors to a file one at a time, so the whole file never sits in memory. */
export async function writeSafetensorsFile(path: string, tensors: HostTensors, options: EncodeOptions = {}): Promise<void> {
  const dtype = options.dtype ?? 'F32'
  const { prefix } = encodeHeader(tensors, dtype, options.metadata)
  const handle = await open(path, 'w')
  try {
    await handle.write(prefix)
    for (const tensor of tensors.values()) await handle.write(tensorBytes(tensor, dtype))
  } finally {
    await handle.close()
  }
}

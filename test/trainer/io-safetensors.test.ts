import t from 'tap'
import { writeFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostTensors } from '../../src/trainer/model/types.ts'
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile } from '../../src/trainer/io/safetensors.ts'
import { floatToHalf, halfToFloat } from '../../src/trainer/io/float16.ts'

const sample = (): HostTensors =>
  new Map([
    ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2.5, 3.25, 0, 1e-3, -65504]) }],
    ['b.bias', { shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) }],
    ['scalar', { shape: [], data: Float32Array.from([7]) }],
  ])

/** A safetensors file built by hand from a header object and raw bytes (no use of our writer). */
function handMade(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(8 + json.length + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true)
  out.set(json, 8)
  out.set(data, 8 + json.length)
  return out
}

t.test('F32 write/read round-trips exactly, with metadata, and data starts 8-byte aligned', async (t) => {
  const bytes = encodeSafetensors(sample(), { metadata: { format: 'pt' } })
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true))
  t.equal((8 + headerLength) % 8, 0)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)))
  t.same(header.__metadata__, { format: 'pt' })
  t.same(header['a.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] })
  const back = decodeSafetensors(bytes)
  t.same(back.metadata, { format: 'pt' })
  for (const [name, tensor] of sample()) {
    t.same(back.tensors.get(name)!.shape, tensor.shape, `${name} shape`)
    t.same(Array.from(back.tensors.get(name)!.data), Array.from(tensor.data), `${name} data`)
  }
})

t.test('F16 storage rounds to the nearest half and reads back through the table', async (t) => {
  const back = decodeSafetensors(encodeSafetensors(sample(), { dtype: 'F16' })).tensors.get('a.weight')!
  t.same(Array.from(back.data), [1, -2.5, 3.25, 0, halfToFloat(floatToHalf(1e-3)), -65504])
  t.ok(Math.abs(back.data[4] - 1e-3) < 1e-6)
})

t.test('half conversion handles subnormals, infinities and round-to-even', async (t) => {
  t.equal(floatToHalf(2 ** -24), 0x0001, 'smallest subnormal')
  t.equal(halfToFloat(0x0001), 2 ** -24)
  t.equal(floatToHalf(1e6), 0x7c00, 'overflow to +Inf')
  t.equal(halfToFloat(0xfc00), -Infinity)
  t.ok(Number.isNaN(halfToFloat(0x7e00)))
  t.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'tie rounds to even (down)')
  t.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds to even (up)')
  for (let h = 0; h < 0x7c00; h += 97) t.equal(floatToHalf(halfToFloat(h)), h, `half ${h} survives a round trip`)
})

t.test('BF16 widens by a 16-bit shift', async (t) => {
  // 1.0f = 0x3f800000 -> bf16 0x3f80; -2.0f = 0xc0000000 -> 0xc000; 3.140625 = 0x40490000 -> 0x4049
  const data = new Uint8Array(new Uint16Array([0x3f80, 0xc000, 0x4049]).buffer)
  const file = handMade({ x: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] } }, data)
  t.same(Array.from(decodeSafetensors(file).tensors.get('x')!.data), [1, -2, 3.140625])
})

t.test('F32 data at an unaligned offset (a pooled Buffer slice) is copied, not misread', async (t) => {
  const bytes = handMade({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(new Float32Array([1.5, -4]).buffer))
  const dataStart = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))
  // Shift by one byte inside a larger buffer: whatever the header length, one of the two
  // placements puts the tensor data off a 4-byte boundary.
  const shifted = Buffer.concat([Buffer.from([0]), Buffer.from(bytes)]).subarray(1)
  const pooled = (shifted.byteOffset + dataStart) % 4 !== 0 ? shifted : Buffer.concat([Buffer.from([0, 0]), Buffer.from(bytes)]).subarray(2)
  t.not((pooled.byteOffset + dataStart) % 4, 0, 'data is unaligned')
  t.same(Array.from(decodeSafetensors(pooled).tensors.get('x')!.data), [1.5, -4])
})

t.test('unsupported dtypes and wrong byte counts are refused by name', async (t) => {
  t.throws(() => decodeSafetensors(handMade({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))), /ids has unsupported dtype I64/)
  t.throws(() => decodeSafetensors(handMade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))), /x has 8 bytes, expected 12/)
})

t.test('file reader reads tensor by tensor, can skip tensors, and matches the in-memory decoder', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'model.safetensors')
  await writeSafetensorsFile(path, sample(), { metadata: { format: 'pt' } })
  t.same(new Uint8Array(await readFile(path)), encodeSafetensors(sample(), { metadata: { format: 'pt' } }), 'streamed file = encoded bytes')
  const all = await readSafetensorsFile(path)
  t.same([...all.tensors.keys()], ['a.weight', 'b.bias', 'scalar'])
  t.same(Array.from(all.tensors.get('b.bias')!.data), Array.from(sample().get('b.bias')!.data))
  const some = await readSafetensorsFile(path, (name) => name.endsWith('.bias'))
  t.same([...some.tensors.keys()], ['b.bias'])
  await writeFile(join(dir, 'short.safetensors'), (await readFile(path)).subarray(0, 60))
  await t.rejects(readSafetensorsFile(join(dir, 'short.safetensors')), /file ends early/)
})

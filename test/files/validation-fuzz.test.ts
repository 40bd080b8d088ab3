// Whatever bytes arrive, the validator finishes with a consistent report, and
// the report does not depend on how the bytes were cut into chunks.

import t, { type Test } from 'tap'
import { statusDetails, validateFineTuneJsonl, type DatasetReport } from '../../src/files/validation/index.ts'

// A small seeded generator, so a failure can be replayed from its seed.
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9)
t.comment(`FUZZ_SEED=${seed}`)
const random = mulberry32(seed)
const below = (n: number) => Math.floor(random() * n)

const validLines = [
  '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":1}]}',
  '{"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\\"a\\":1}"}}]}],"tools":[{"type":"function","function":{"name":"f"}}]}',
  '{"prompt":"héllo","completion":"wörld"}',
  '{"input":{"messages":[{"role":"user","content":"q"}]},"preferred_output":[{"role":"assistant","content":"a"}],"non_preferred_output":[{"role":"assistant","content":"b"}]}',
]

// Bytes that matter to the validator, mixed with anything at all.
const interesting = [0x0a, 0x0d, 0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x20, 0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xf0, 0x80, 0xff]

function randomBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length)
  for (let i = 0; i < length; i++) bytes[i] = random() < 0.5 ? interesting[below(interesting.length)] : below(256)
  return bytes
}

// JSON fragments to splice in, including names that exist on Object.prototype.
const SNIPPETS = ['null', '[]', '{}', '1', '"x"', '\\', '"constructor"', '"toString":', '"__proto__":{},']

function mutate(line: string): Buffer {
  const bytes = [...Buffer.from(line)]
  for (let edits = 1 + below(3); edits > 0; edits--) {
    const at = below(bytes.length + 1)
    const kind = below(3)
    if (kind === 0) bytes.splice(at, 1)
    else if (kind === 1) bytes.splice(at, 0, interesting[below(interesting.length)])
    else bytes.splice(at, 0, ...Buffer.from(SNIPPETS[below(SNIPPETS.length)]))
  }
  return Buffer.from(bytes)
}

function randomChunks(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + below(random() < 0.3 ? 4 : 200)
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  return chunks
}

async function checkInvariants(tt: Test, bytes: Buffer, label: string): Promise<DatasetReport> {
  const whole = await validateFineTuneJsonl([bytes], { maxLineBytes: 300, maxErrors: 5 })
  const chunked = await validateFineTuneJsonl(randomChunks(bytes), { maxLineBytes: 300, maxErrors: 5 })
  if (JSON.stringify(whole) !== JSON.stringify(chunked)) tt.same(chunked, whole, `${label}: chunking changed the report`)
  const newlines = bytes.filter((b) => b === 0x0a).length
  const expectedLines = newlines + (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a ? 1 : 0)
  const consistent =
    whole.stats.bytes === bytes.length &&
    whole.stats.lines === expectedLines &&
    whole.errors.length <= 5 &&
    whole.errorCount >= whole.errors.length &&
    whole.ok === (whole.errorCount === 0) &&
    whole.examples <= whole.stats.lines &&
    (whole.ok ? whole.examples > 0 && whole.format !== null : typeof statusDetails(whole) === 'string')
  if (!consistent) tt.fail(`${label}: inconsistent report ${JSON.stringify(whole)}`)
  return whole
}

t.test('random bytes', async (t) => {
  for (let i = 0; i < 300; i++) await checkInvariants(t, randomBytes(below(2000)), `random #${i}`)
  t.pass('300 random inputs validated')
})

t.test('every truncation of valid examples', async (t) => {
  let failed = 0
  for (const line of validLines) {
    const bytes = Buffer.from(line)
    for (let cut = 0; cut < bytes.length; cut++) {
      const report = await checkInvariants(t, bytes.subarray(0, cut), `${line.slice(0, 20)} cut at ${cut}`)
      if (!report.ok) failed++
    }
  }
  const total = validLines.reduce((sum, line) => sum + Buffer.byteLength(line), 0)
  t.equal(failed, total, 'no truncated example is accepted')
})

t.test('mutated examples amid valid ones', async (t) => {
  for (let i = 0; i < 300; i++) {
    const lines = Array.from({ length: 1 + below(6) }, () => {
      const line = validLines[below(validLines.length)]
      return random() < 0.5 ? mutate(line) : Buffer.from(line)
    })
    await checkInvariants(t, Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')])), `mutation #${i}`)
  }
  t.pass('300 mutated files validated')
})

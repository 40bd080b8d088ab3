// The byte-to-line layer: same lines whatever the chunking, the right line
// blamed for bad UTF-8, and long lines refused without being buffered.

import t from 'tap'
import { LineSplitter, type LineSink } from '../../src/files/validation/line-splitter.ts'

type Event = ['line', number, string] | ['invalidUtf8', number] | ['oversized', number, number, string]

function recorder(): { events: Event[]; sink: LineSink } {
  const events: Event[] = []
  const sink: LineSink = {
    line: (text, n) => events.push(['line', n, text]),
    invalidUtf8: (n) => events.push(['invalidUtf8', n]),
    oversized: (n, bytes, firstByte) => events.push(['oversized', n, bytes, String.fromCharCode(firstByte)]),
  }
  return { events, sink }
}

function split(chunks: Buffer[], maxLineBytes = 1000) {
  const { events, sink } = recorder()
  const splitter = new LineSplitter(sink, maxLineBytes)
  for (const chunk of chunks) splitter.push(chunk)
  splitter.end()
  return { events, bytes: splitter.bytes, lines: splitter.lines }
}

const sample = Buffer.concat([
  Buffer.from('first\n'),
  Buffer.from('crème brûlée → 🍮\r\n'),
  Buffer.from('\n'),
  Buffer.from([0x62, 0x61, 0x64, 0xc3, 0x28, 0x0a]), // "bad" + an invalid two-byte sequence
  Buffer.from('a\rb\n'),
  Buffer.from('last, no newline'),
])
const expected: Event[] = [
  ['line', 1, 'first'],
  ['line', 2, 'crème brûlée → 🍮'],
  ['line', 3, ''],
  ['invalidUtf8', 4],
  ['line', 5, 'a\rb'],
  ['line', 6, 'last, no newline'],
]

t.test('one chunk', async (t) => {
  const result = split([sample])
  t.same(result.events, expected)
  t.equal(result.bytes, sample.length)
  t.equal(result.lines, 6)
})

t.test('every two-chunk split gives the same lines', async (t) => {
  for (let cut = 0; cut <= sample.length; cut++) {
    const result = split([sample.subarray(0, cut), sample.subarray(cut)])
    t.same(result.events, expected, `cut at byte ${cut}`)
  }
})

t.test('one byte at a time gives the same lines', async (t) => {
  const bytes = Array.from(sample, (b) => Buffer.from([b]))
  t.same(split(bytes).events, expected)
})

// Decoding marks invalid bytes with U+FFFD, which is also a valid character of
// its own: written as UTF-8 it is text like any other.
t.test('a real U+FFFD character is valid text, beside an invalid byte or not', async (t) => {
  t.same(split([Buffer.from('replacement \ufffd character\nnext\n')]).events, [
    ['line', 1, 'replacement \ufffd character'],
    ['line', 2, 'next'],
  ])
  t.same(split([Buffer.concat([Buffer.from('\ufffd\n'), Buffer.from([0xff, 0x0a]), Buffer.from('\ufffd')])]).events, [
    ['line', 1, '\ufffd'],
    ['invalidUtf8', 2],
    ['line', 3, '\ufffd'],
  ])
})

t.test('a final newline does not start an empty line', async (t) => {
  t.same(split([Buffer.from('a\nb\n')]).events, [
    ['line', 1, 'a'],
    ['line', 2, 'b'],
  ])
  t.same(split([]).events, [])
})

t.test('lines over the limit, in one chunk or across many', async (t) => {
  const long = 'x'.repeat(25)
  const text = Buffer.from(`ok\n${long}\n${'y'.repeat(20)}\nend`)
  const expectedEvents: Event[] = [
    ['line', 1, 'ok'],
    ['oversized', 2, 25, 'x'],
    ['line', 3, 'y'.repeat(20)],
    ['line', 4, 'end'],
  ]
  t.same(split([text], 20).events, expectedEvents, 'a line at the limit passes, one over it does not')
  const chunks = Array.from({ length: Math.ceil(text.length / 3) }, (_, i) => text.subarray(i * 3, i * 3 + 3))
  t.same(split(chunks, 20).events, expectedEvents, 'the same in 3-byte chunks')
  t.same(split([Buffer.from('z'.repeat(30))], 20).events, [['oversized', 1, 30, 'z']], 'an unterminated last line')
})

t.test('a 200 MB line is measured without being buffered', async (t) => {
  const limit = 1024 * 1024
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  const { events, sink } = recorder()
  const splitter = new LineSplitter(sink, limit)
  const before = process.memoryUsage().arrayBuffers
  let peak = before
  splitter.push(Buffer.from('{"a":1}\n'))
  const chunks = (200 * 1024 * 1024) / chunk.length
  for (let i = 0; i < chunks; i++) {
    splitter.push(chunk)
    if (i % 64 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers)
  }
  splitter.push(Buffer.from('\n{"b":2}\n'))
  splitter.end()
  t.same(events, [
    ['line', 1, '{"a":1}'],
    ['oversized', 2, 200 * 1024 * 1024, 'a'],
    ['line', 3, '{"b":2}'],
  ])
  t.ok(peak - before < 16 * 1024 * 1024, `external memory grew by ${((peak - before) / 1e6).toFixed(1)} MB`)
})

t.test('a chunk buffer reused by its source does not corrupt the carried line', async (t) => {
  const { events, sink } = recorder()
  const splitter = new LineSplitter(sink, 1000)
  const reused = Buffer.alloc(4)
  for (const piece of ['ab', 'cd', 'e\nfg', 'h\n']) {
    splitter.push(reused.subarray(0, Buffer.from(piece).copy(reused)))
  }
  splitter.end()
  t.same(events, [
    ['line', 1, 'abcde'],
    ['line', 2, 'fgh'],
  ])
})

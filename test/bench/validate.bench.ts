// Throughput of the fine-tuning dataset validator on a large chat JSONL file, beside a bare
// line-split + JSON.parse of the same chunks in the same run (the floor any validator that parses
// each line pays). Targets: ≥ 150 MB/s and ≥ 0.9 of the baseline's speed.
//
//   node test/bench/validate.bench.ts [megabytes=1024] [chunkKiB=64] [rounds=3]
//
// The validator and the baseline alternate `rounds` times over the whole data each; speeds are per
// CPU-second of this process (on a busy machine wall-clock time says more about the neighbours),
// the best round of each is kept, and the ratio is of those.
//
// The data is generated on the fly as a stream of chunks cut from a pool of
// varied, pre-serialised examples (some with tools), so nothing is written to
// disk and generation costs almost nothing next to validation. Chunks are cut
// at fixed sizes, so lines straddle chunk boundaries as they do when reading
// a file. Pin to one core with `taskset -c 0` to measure single-core speed.

import { validateFineTuneJsonl } from '../../src/files/validation/index.ts'

const megabytes = Number(process.argv[2] ?? 1024)
const chunkBytes = Number(process.argv[3] ?? 64) * 1024
const rounds = Number(process.argv[4] ?? 3)

function exampleLine(i: number): string {
  const words = ['recipe', 'oven', 'simmer', 'whisk', 'garlic', 'butter', 'crème brûlée', 'thyme', 'braise', 'umami']
  const sentence = (n: number) =>
    Array.from({ length: n }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(' ') + '.'
  const messages: unknown[] = [
    { role: 'system', content: 'You are a helpful cooking assistant. Answer briefly and precisely.' },
    { role: 'user', content: `Question ${i}: ${sentence(10 + (i % 30))}` },
  ]
  const withTools = i % 5 === 0
  if (withTools) {
    messages.push(
      {
        role: 'assistant',
        tool_calls: [
          { id: `call_${i}`, type: 'function', function: { name: 'find_recipe', arguments: `{"query":"${words[i % 10]}"}` } },
        ],
      },
      { role: 'tool', tool_call_id: `call_${i}`, content: [{ type: 'text', text: sentence(20) }] },
    )
  }
  messages.push({ role: 'assistant', content: sentence(20 + (i % 80)), weight: 1 })
  const example: Record<string, unknown> = { messages }
  if (withTools) {
    example.tools = [
      {
        type: 'function',
        function: {
          name: 'find_recipe',
          description: 'Search the recipe book',
          parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
        },
      },
    ]
  }
  return JSON.stringify(example) + '\n'
}

// About 4 MB of distinct lines, repeated to reach the requested size.
const pool = Buffer.from(Array.from({ length: 5000 }, (_, i) => exampleLine(i)).join(''))
const totalBytes = Math.floor((megabytes * 1024 * 1024) / pool.length) * pool.length

function* chunks(): Generator<Buffer> {
  for (let sent = 0; sent < totalBytes; ) {
    const offset = sent % pool.length
    const size = Math.min(chunkBytes, pool.length - offset, totalBytes - sent)
    yield pool.subarray(offset, offset + size)
    sent += size
  }
}

/**
 * The baseline: split on newlines and JSON.parse every line, no checks — done the fastest plain way
 * (each chunk's complete lines decoded with one toString and cut on the string; a line spanning
 * chunks joined from its pieces). Returns the lines parsed.
 */
function bareParse(): number {
  let pending: Buffer[] = []
  let lines = 0
  for (const chunk of chunks()) {
    let start = 0
    if (pending.length > 0) {
      const nl = chunk.indexOf(10)
      if (nl === -1) {
        pending.push(Buffer.from(chunk))
        continue
      }
      pending.push(chunk.subarray(0, nl))
      JSON.parse(Buffer.concat(pending).toString('utf8'))
      lines++
      pending = []
      start = nl + 1
    }
    const last = chunk.lastIndexOf(10)
    if (last >= start) {
      const text = chunk.toString('utf8', start, last)
      for (let from = 0; ; ) {
        let nl = text.indexOf('\n', from)
        if (nl === -1) nl = text.length
        JSON.parse(text.slice(from, nl))
        lines++
        if (nl === text.length) break
        from = nl + 1
      }
      start = last + 1
    }
    if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)))
  }
  if (pending.length > 0) {
    JSON.parse(Buffer.concat(pending).toString('utf8'))
    lines++
  }
  return lines
}

interface Round {
  wall: number
  cpu: number
}

async function timed(run: () => unknown): Promise<Round> {
  const started = process.hrtime.bigint()
  const cpuBefore = process.cpuUsage()
  await run()
  const cpu = process.cpuUsage(cpuBefore)
  return { wall: Number(process.hrtime.bigint() - started) / 1e9, cpu: (cpu.user + cpu.system) / 1e6 }
}

const mb = totalBytes / 1e6
const ours: Round[] = []
const bare: Round[] = []
let report: Awaited<ReturnType<typeof validateFineTuneJsonl>> | undefined
for (let round = 0; round < rounds; round++) {
  const validator = async () => {
    report = await validateFineTuneJsonl(chunks())
    if (!report.ok) throw new Error(`generated data failed validation: ${JSON.stringify(report.errors)}`)
  }
  // Alternating who goes first, so a neighbour's burst falls on both alike.
  if (round % 2 === 0) {
    ours.push(await timed(validator))
    bare.push(await timed(bareParse))
  } else {
    bare.push(await timed(bareParse))
    ours.push(await timed(validator))
  }
}
const best = (rs: Round[]) => ({ wall: Math.max(...rs.map((r) => mb / r.wall)), cpu: Math.max(...rs.map((r) => mb / r.cpu)) })
const o = best(ours)
const b = best(bare)
console.log(
  `validated ${mb.toFixed(0)} MB, ${report!.examples} examples (${report!.stats.examplesWithTools} with tools), ${rounds} rounds, best of each:\n` +
    `  validator          ${o.cpu.toFixed(0).padStart(5)} MB per CPU-second  (${o.wall.toFixed(0)} MB/s wall)   target ≥ 150\n` +
    `  split + JSON.parse ${b.cpu.toFixed(0).padStart(5)} MB per CPU-second  (${b.wall.toFixed(0)} MB/s wall)\n` +
    `  ratio              ${(o.cpu / b.cpu).toFixed(2).padStart(5)}                         target ≥ 0.90\n` +
    `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
)

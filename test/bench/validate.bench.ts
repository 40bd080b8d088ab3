// Throughput of the fine-tuning dataset validator on a large chat JSONL file.
//
//   node test/bench/validate.bench.ts [megabytes=1024] [chunkKiB=64]
//
// The data is generated on the fly as a stream of chunks cut from a pool of
// varied, pre-serialised examples (some with tools), so nothing is written to
// disk and generation costs almost nothing next to validation. Chunks are cut
// at fixed sizes, so lines straddle chunk boundaries as they do when reading
// a file. Pin to one core with `taskset -c 0` to measure single-core speed.

import { validateFineTuneJsonl } from '../../src/files/validation/index.ts'

const megabytes = Number(process.argv[2] ?? 1024)
const chunkBytes = Number(process.argv[3] ?? 64) * 1024

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

const started = process.hrtime.bigint()
const cpuBefore = process.cpuUsage()
const report = await validateFineTuneJsonl(chunks())
const seconds = Number(process.hrtime.bigint() - started) / 1e9
const cpu = process.cpuUsage(cpuBefore)
// CPU time of this process (all its threads): on a busy machine wall-clock
// speed says more about the neighbours than about the validator.
const cpuSeconds = (cpu.user + cpu.system) / 1e6

if (!report.ok) throw new Error(`generated data failed validation: ${JSON.stringify(report.errors)}`)
const mb = report.stats.bytes / 1e6
console.log(
  `validated ${mb.toFixed(0)} MB, ${report.examples} examples (${report.stats.examplesWithTools} with tools) ` +
    `in ${seconds.toFixed(2)} s: ${(mb / seconds).toFixed(0)} MB/s wall, ` +
    `${(mb / cpuSeconds).toFixed(0)} MB per CPU-second; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
)

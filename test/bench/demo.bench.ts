// What a newcomer waits for, measured from outside as they would see it:
//   - `npm run demo` on a fresh data dir, then again on the same one: seconds from the command to
//     "Skillet is up" and to "job succeeded" (the whole first job: upload, validation, training,
//     export);
//   - `node src/server.ts` alone, fresh and reused data dir: seconds to the first 200 from /healthz,
//     and where the server says its start-up went (its "Skillet started" log line: imports, database
//     open + migrations, demo model generation, routes, listening, background).
//
//   npm run bench:demo [runs=1]
//
// Figures depend on the machine and its load (printed alongside): run on an idle machine.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const runs = Number(process.argv[2] ?? 1)

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

interface Timed {
  /** Seconds from spawn until each awaited pattern first appeared. */
  at: Record<string, number>
  output: string
}

/** Spawns a command in its own process group, records when each pattern shows in its output, then stops it. */
async function timeUntil(cmd: string, args: string[], env: Record<string, string>, patterns: Record<string, RegExp>, probe?: () => Promise<boolean>): Promise<Timed> {
  const started = performance.now()
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  const at: Record<string, number> = {}
  const seen = () => {
    for (const [name, re] of Object.entries(patterns)) if (!(name in at) && re.test(output)) at[name] = (performance.now() - started) / 1000
  }
  child.stdout.on('data', (d) => { output += d; seen() })
  child.stderr.on('data', (d) => { output += d; seen() })
  const exited = new Promise((r) => child.once('exit', r))
  const deadline = Date.now() + 600_000
  while (Object.keys(at).length < Object.keys(patterns).length + (probe ? 1 : 0) && child.exitCode === null && Date.now() < deadline) {
    if (probe && !('healthz' in at) && (await probe())) at.healthz = (performance.now() - started) / 1000
    await new Promise((r) => setTimeout(r, 50))
  }
  if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM')
  await exited
  return { at, output }
}

const startupLine = (output: string) => {
  const line = output.split('\n').find((l) => l.includes('"startup_ms"'))
  return line ? (JSON.parse(line) as { startup_ms: Record<string, number> }).startup_ms : null
}
const phases = (p: Record<string, number> | null) => (p ? Object.entries(p).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`).join(', ') : 'no start-up line')
const s = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} s`)

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`)
for (let r = 0; r < runs; r++) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-bench-demo-'))
  try {
    for (const which of ['fresh data dir', 'same data dir again']) {
      const port = await freePort()
      const env = { PORT: String(port), HOST: '127.0.0.1', SKILLET_DATA_DIR: dataDir, SKILLET_METRICS_PORT: '0', SKILLET_LOG_LEVEL: 'info', SKILLET_API_KEY: '' }
      const demo = await timeUntil('npm', ['run', 'demo'], env, { up: /^Skillet is up/m, succeeded: /^job succeeded/m, done: /Ctrl-C stops it/ })
      const loss = /^training loss .*$/m.exec(demo.output)?.[0] ?? 'no loss line'
      console.log(`npm run demo, ${which}: up ${s(demo.at.up)}, job succeeded ${s(demo.at.succeeded)} after the command; ${loss}`)
      console.log(`  server start-up (s): ${phases(startupLine(demo.output))}`)
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  const serverDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-bench-server-'))
  try {
    for (const which of ['fresh data dir', 'same data dir again']) {
      const port = await freePort()
      const env = { PORT: String(port), HOST: '127.0.0.1', SKILLET_DATA_DIR: serverDir, SKILLET_METRICS_PORT: '0', SKILLET_LOG_LEVEL: 'info', SKILLET_API_KEY: 'sk-bench-demo-0123456789abcdefgh' }
      const probe = () => fetch(`http://127.0.0.1:${port}/healthz`).then((res) => res.ok, () => false)
      const server = await timeUntil(process.execPath, ['src/server.ts'], env, { started: /Skillet started/ }, probe)
      console.log(`node src/server.ts, ${which}: /healthz answers ${s(server.at.healthz)} after the command`)
      console.log(`  start-up (s): ${phases(startupLine(server.output))}`)
    }
  } finally {
    fs.rmSync(serverDir, { recursive: true, force: true })
  }
}

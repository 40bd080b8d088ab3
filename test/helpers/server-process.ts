// Runs `node src/server.ts` as a real child process on a free loopback port, for tests of what
// only a whole process shows: memory, signals, first-start output.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

export interface ServerProcess {
  child: ChildProcess
  baseURL: string
  /** Everything the process printed so far. */
  output(): string
  /** Resident memory now, in bytes (Linux /proc). */
  rss(): number
  exited: Promise<number | null>
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), SKILLET_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const baseURL = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`)
    const ok = await fetch(`${baseURL}/healthz`).then((r) => r.ok, () => false)
    if (ok) break
    if (Date.now() > deadline) throw new Error(`server did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    child,
    baseURL,
    output: () => out,
    rss: () => {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
    },
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

/**
 * Spawns `node src/server.ts` from the repository root with `env` added to this process's
 * environment, appending its output to `logFile`. For tests that kill and restart the API
 * (the same port, data dir and database each time); pair with waitHealthy.
 */
export function spawnApi(env: Record<string, string>, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a')
  const root = fileURLToPath(new URL('../..', import.meta.url))
  return spawn(process.execPath, ['src/server.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, out] })
}

/** Resolves once GET {base}/healthz answers 200. */
export async function waitHealthy(base: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('API did not start')
}

// npm run bench:rss — idle resident memory of the real API process (`node src/server.ts`), on the
// embedded defaults (PGlite) and with DATABASE_URL (Postgres), each beside a bare Fastify with the
// same database driver (one route running `select 1`) in the same run. Target: Skillet ≤ 1.5× its
// baseline.
//
//   npm run bench:rss [-- --rounds 3] [-- --idle-seconds 8] [-- --node-flags=--max-semi-space-size=4]
//
// Each process is started, answers a few requests (the API: /readyz and a list of jobs), then idles;
// its RSS is read from /proc every half second of the idle period and the median kept. Targets run
// one at a time, alternating, ROUNDS times each; the table shows the median over rounds. A first,
// unmeasured start of each embedded process creates its data dir (PGlite's initdb), so the rounds
// measure a restart, as a server runs most of its life. The API gets the Node flags and the
// environment assignments (malloc settings) of `npm start` (package.json; the Dockerfile and the
// Helm chart start it with the same ones) unless --node-flags names other flags (to compare V8
// settings; --node-flags= for none).
// Postgres: DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres (a database is created
// and dropped); without one reachable only the embedded pair runs.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/server-process.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const KEY = 'sk-bench-rss-0123456789abcdefghij'

/** Child mode: a bare Fastify with one route through the given driver, listening on $PORT. */
async function bare(driver: string, target: string, port: number): Promise<void> {
  const { default: Fastify } = await import('fastify')
  let query: () => Promise<unknown>
  if (driver === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite')
    const client = new PGlite(target)
    await client.waitReady
    query = async () => (await client.query('select 1 as one')).rows
  } else {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: target, max: 10 })
    query = async () => (await pool.query('select 1 as one')).rows
  }
  const app = Fastify()
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/query', query)
  await app.listen({ port, host: '127.0.0.1' })
}

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024
}

interface Target {
  label: string
  args: () => string[]
  env: Record<string, string>
  /** Requests made once it is up, before the idle period. */
  warm: string[]
  headers?: Record<string, string>
}

async function measure(target: Target, idleSeconds: number): Promise<number> {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, target.args(), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), SKILLET_LOG_LEVEL: 'warn', ...target.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise((r) => child.once('exit', r))
  try {
    const base = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 300_000
    while (!(await fetch(`${base}/healthz`).then((r) => r.ok, () => false))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${target.label} did not start:\n${err}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    for (let i = 0; i < 5; i++) {
      for (const p of target.warm) {
        const res = await fetch(`${base}${p}`, { headers: target.headers })
        if (!res.ok) throw new Error(`${target.label}: GET ${p} answered ${res.status}: ${await res.text()}`)
        await res.arrayBuffer()
      }
    }
    const samples: number[] = []
    for (let i = 0; i < idleSeconds * 2; i++) {
      await new Promise((r) => setTimeout(r, 500))
      samples.push(rssOf(child.pid!))
    }
    return median(samples)
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
  }
}

/** How `npm start` runs the server: `[NAME=value …] node <flags> src/server.ts`. */
function startCommand(): { env: Record<string, string>; flags: string } {
  const start = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start
  const match = /^((?:\w+=\S*\s+)*)node\s+(.*?)\s*src\/server\.ts$/.exec(start)
  if (!match) throw new Error(`package.json's start script is not '[NAME=value …] node [flags] src/server.ts': ${start}`)
  const env = Object.fromEntries(match[1].split(/\s+/).filter(Boolean).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]))
  return { env, flags: match[2] }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`

async function postgresUrl(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const { default: pg } = await import('pg')
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const admin = new pg.Client({ connectionString: adminUrl })
  try {
    await admin.connect()
  } catch {
    return null
  }
  const name = `skillet_bench_rss_${process.pid}`
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, 'idle-seconds': { type: 'string', default: '8' }, 'node-flags': { type: 'string' } } })
  const rounds = Number(values.rounds)
  const idleSeconds = Number(values['idle-seconds'])
  const start = startCommand()
  const nodeFlags = (values['node-flags'] ?? start.flags).split(/\s+/).filter(Boolean)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillet-bench-rss-'))
  const self = fileURLToPath(import.meta.url)
  const api = (label: string, env: Record<string, string>): Target => ({
    label,
    args: () => [...nodeFlags, 'src/server.ts'],
    env: { ...start.env, SKILLET_API_KEY: KEY, SKILLET_METRICS_PORT: '0', SKILLET_DATA_DIR: path.join(dir, label.replace(/\W+/g, '-')), ...env },
    warm: ['/readyz', '/v1/fine_tuning/jobs'],
    headers: { authorization: `Bearer ${KEY}` },
  })
  const pairs: [Target, Target][] = [
    [api('skillet embedded', {}), { label: 'bare Fastify + PGlite', args: () => [self, '--bare', 'pglite', path.join(dir, 'bare-pglite')], env: {}, warm: ['/query'] }],
  ]
  const postgres = await postgresUrl()
  if (postgres) {
    pairs.push([api('skillet DATABASE_URL', { DATABASE_URL: postgres.url }), { label: 'bare Fastify + pg', args: () => [self, '--bare', 'pg', postgres.url], env: {}, warm: ['/query'] }])
  } else console.log('no Postgres reachable (DATABASE_URL): measuring the embedded pair only')
  try {
    // Unmeasured first starts: PGlite's initdb, the demo model, migrations.
    for (const [a, b] of pairs) {
      await measure(a, 0)
      await measure(b, 0)
    }
    const results = new Map<string, number[]>()
    for (let round = 0; round < rounds; round++) {
      for (const pair of pairs) {
        for (const t of round % 2 === 0 ? pair : [pair[1], pair[0]]) {
          const rss = await measure(t, idleSeconds)
          results.set(t.label, [...(results.get(t.label) ?? []), rss])
        }
      }
    }
    console.log(`\nidle RSS, ${rounds} rounds × ${idleSeconds} s idle, median (range); API started with ${[...Object.entries(start.env).map(([k, v]) => `${k}=${v}`), ...nodeFlags].join(' ') || 'no Node flags'}; load average ${os.loadavg()[0].toFixed(1)}\n`)
    for (const [a, b] of pairs) {
      for (const t of [a, b]) {
        const xs = results.get(t.label)!
        console.log(`${t.label.padEnd(24)} ${mb(median(xs)).padStart(7)}   (${mb(Math.min(...xs))} – ${mb(Math.max(...xs))})`)
      }
      console.log(`${'ratio'.padEnd(24)} ${(median(results.get(a.label)!) / median(results.get(b.label)!)).toFixed(2).padStart(7)}   (target ≤ 1.50)\n`)
    }
  } finally {
    await postgres?.drop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--bare') await bare(process.argv[3], process.argv[4], Number(process.env.PORT))
else await main()

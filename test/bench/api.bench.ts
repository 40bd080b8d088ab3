// npm run bench:api — requests/s and p99 latency of GET /v1/fine_tuning/jobs/{id} and of job
// creation at 64 connections on real Postgres (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres),
// each beside a bare Fastify + pg route doing the same queries, in the same run. Target: Skillet
// reaches ≥ 0.7 of the baseline's throughput. The load comes from a child process (this file with
// --load), so it does not share the servers' event loop.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import pg from 'pg'
import pino from 'pino'

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)

interface LoadResult {
  requests: number
  errors: number
  rps: number
  p50: number
  p99: number
}

/** Child-process mode: hammer one URL with CONNECTIONS keep-alive connections, print a LoadResult. */
async function load(url: string, method: string, body: string, headers: Record<string, string>): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const latencies: number[] = []
  let errors = 0
  const started = performance.now()
  const until = started + SECONDS * 1000
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now()
      const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 200) errors++
          latencies.push(performance.now() - t0)
          resolve()
        })
      })
      req.on('error', () => {
        errors++
        resolve()
      })
      req.end(body || undefined)
    })
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) await one()
    }),
  )
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  const result: LoadResult = { requests: latencies.length, errors, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) }
  process.stdout.write(JSON.stringify(result))
  agent.destroy()
}

function runLoad(url: string, method = 'GET', body = '', headers: Record<string, string> = {}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', url, method, body, JSON.stringify(headers)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))))
  })
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../../src/config/index.ts')
  const { openDatabase } = await import('../../src/db/database.ts')
  const { buildApp } = await import('../../src/app.ts')
  const { createAppServices } = await import('../../src/services/app-services.ts')
  const { createApiKey } = await import('../../src/services/projects.ts')
  const { createBlobStore } = await import('../../src/storage/index.ts')
  const { files } = await import('../../src/db/schema/index.ts')
  const { randomBase62, unixNow } = await import('../../src/lib/ids.ts')

  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `skillet_bench_${randomBase62(8).toLowerCase()}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const database = await openDatabase({ driver: 'pg', url: url.toString(), poolSize: 10 })
  try {
    await database.migrate()
    const config = loadConfig({ SKILLET_DATA_DIR: `/tmp/${name}`, SKILLET_LOG_LEVEL: 'silent', SKILLET_RATE_LIMIT_PER_MINUTE: '100000000', SKILLET_BASE_MODELS: 'bench-model=/nonexistent' })
    const services = createAppServices({ config, database, blobs: createBlobStore({ kind: 'fs', root: `/tmp/${name}/blobs` }), log: pino({ level: 'silent' }) })
    const app = await buildApp({ services, logger: pino({ level: 'silent' }) })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { key, projectId } = await createApiKey(database.db, { project: 'bench', isAdmin: true })
    const fileId = `file-${randomBase62(22)}`
    await database.db.insert(files).values({ id: fileId, projectId, filename: 'train.jsonl', purpose: 'fine-tune', bytes: 1000, status: 'processed', blobKey: 'x', createdAt: unixNow(), dataset: { format: 'chat', examples: 100, stats: { estimatedTokens: 5000 } } })
    const skillet = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    const auth = { authorization: `Bearer ${key}` }
    const createBody = JSON.stringify({ model: 'bench-model', training_file: fileId })
    const created = (await (await fetch(`${skillet}/v1/fine_tuning/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: createBody })).json()) as { id: string }

    // The baseline: bare Fastify and a pg pool of the same size, running the same queries.
    const pool = new pg.Pool({ connectionString: url.toString(), max: 10 })
    const bare = Fastify()
    bare.get<{ Params: { id: string } }>('/jobs/:id', async (request) => {
      const { rows } = await pool.query('select * from fine_tuning_jobs where id = $1 and project_id = $2', [request.params.id, projectId])
      return rows[0]
    })
    bare.post('/jobs', async () => {
      const client = await pool.connect()
      try {
        await client.query('begin')
        await client.query('select id from files where id = $1 and project_id = $2', [fileId, projectId])
        const id = `ftjob-${randomBase62(24)}`
        const now = unixNow()
        const { rows } = await client.query(
          `insert into fine_tuning_jobs (id, project_id, model, training_file, seed, method, status, fine_tuned_model, created_at, run_after)
           values ($1, $2, 'bench-model', $3, 1, '{"type":"supervised","supervised":{"hyperparameters":{}}}', 'validating_files', $4, $5, $5) returning *`,
          [id, projectId, fileId, `ft:bench-model:bench::${randomBase62(8)}`, now],
        )
        for (const message of [`Created fine-tuning job: ${id}`, `Validating training file: ${fileId}`]) {
          await client.query(`insert into job_events (id, job_id, created_at, level, message, type, data) values ($1, $2, $3, 'info', $4, 'message', '{}')`, [`ftevent-${randomBase62(24)}`, id, now, message])
        }
        await client.query('commit')
        return rows[0]
      } catch (err) {
        await client.query('rollback')
        throw err
      } finally {
        client.release()
      }
    })
    await bare.listen({ port: 0, host: '127.0.0.1' })
    const baseline = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`

    const rows: [string, LoadResult][] = []
    const warm = async (u: string, m = 'GET', b = '', h: Record<string, string> = {}) => {
      for (let i = 0; i < 200; i++) await fetch(u, { method: m, headers: { ...h, ...(b ? { 'content-type': 'application/json' } : {}) }, body: b || undefined }).then((r) => r.arrayBuffer())
    }
    await warm(`${skillet}/v1/fine_tuning/jobs/${created.id}`, 'GET', '', auth)
    await warm(`${baseline}/jobs/${created.id}`)
    rows.push([`GET  /v1/fine_tuning/jobs/{id}  skillet `, await runLoad(`${skillet}/v1/fine_tuning/jobs/${created.id}`, 'GET', '', auth)])
    rows.push([`GET  /v1/fine_tuning/jobs/{id}  baseline`, await runLoad(`${baseline}/jobs/${created.id}`)])
    rows.push([`POST /v1/fine_tuning/jobs       skillet `, await runLoad(`${skillet}/v1/fine_tuning/jobs`, 'POST', createBody, auth)])
    rows.push([`POST /v1/fine_tuning/jobs       baseline`, await runLoad(`${baseline}/jobs`, 'POST', createBody)])

    console.log(`\n${CONNECTIONS} connections, ${SECONDS}s each, Postgres at ${url.host}\n`)
    for (const [label, r] of rows) console.log(`${label}  ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   errors ${r.errors}`)
    const ratio = (a: number, b: number) => (rows[a][1].rps / rows[b][1].rps).toFixed(2)
    console.log(`\nskillet / baseline throughput: GET ${ratio(0, 1)}, POST ${ratio(2, 3)} (target ≥ 0.70)`)
    await bare.close()
    await pool.end()
    await app.close()
  } finally {
    await database.close()
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

if (process.argv[2] === '--load') await load(process.argv[3], process.argv[4], process.argv[5], JSON.parse(process.argv[6]) as Record<string, string>)
else await main()

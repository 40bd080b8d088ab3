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
// Each target's SECONDS are split into ROUNDS slices, Skillet and baseline alternating (and swapping
// who goes first), so load from other processes on a shared machine falls on both alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)

/** One slice of load against one URL, as the load generator reports it. */
interface LoadSlice {
  errors: number
  seconds: number
  latencies: number[]
}

interface LoadResult {
  requests: number
  errors: number
  rps: number
  p50: number
  p99: number
}

function summarize(slices: LoadSlice[]): LoadResult {
  const latencies = slices.flatMap((s) => s.latencies).sort((a, b) => a - b)
  const seconds = slices.reduce((sum, s) => sum + s.seconds, 0)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { requests: latencies.length, errors: slices.reduce((sum, s) => sum + s.errors, 0), rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99) }
}

/** Child-process mode: hammer one URL with CONNECTIONS keep-alive connections for SECONDS / ROUNDS, print a LoadSlice. */
async function load(url: string, method: string, body: string, headers: Record<string, string>): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const latencies: number[] = []
  let errors = 0
  const started = performance.now()
  const until = started + (SECONDS / ROUNDS) * 1000
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
  const slice: LoadSlice = { errors, seconds: (performance.now() - started) / 1000, latencies }
  process.stdout.write(JSON.stringify(slice))
  agent.destroy()
}

interface Target {
  url: string
  method?: string
  body?: string
  headers?: Record<string, string>
}

function runLoad({ url, method = 'GET', body = '', headers = {} }: Target): Promise<LoadSlice> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--load', url, method, body, JSON.stringify(headers)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadSlice) : reject(new Error(`load generator exited ${code}`))))
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

    // The baseline: bare Fastify and a pg pool of the same size, sending Postgres the same statements
    // Skillet sends — the same SQL text as the same named prepared statements, and for creation the
    // same round trips (file check, then one statement inserting the job and its events) — so the
    // ratio measures what Skillet adds in Node, not a difference in database work.
    const { and, eq, sql } = await import('drizzle-orm')
    const { fineTuningJobs } = await import('../../src/db/schema/index.ts')
    const sameSql = (q: { toSQL(): { sql: string } }) => q.toSQL().sql
    const selectJobSql = sameSql(database.db.select().from(fineTuningJobs).where(and(eq(fineTuningJobs.id, sql.placeholder('id')), eq(fineTuningJobs.projectId, sql.placeholder('projectId')))))
    const selectFileSql = sameSql(database.db.select().from(files).where(and(eq(files.id, sql.placeholder('id')), eq(files.projectId, sql.placeholder('projectId')))))
    // Skillet's src/jobs/insert-job.ts statement: the job and its two first events in one statement.
    const insertJobSql = `with created_job as (
        insert into fine_tuning_jobs (id, project_id, model, training_file, validation_file, suffix, seed, metadata, method, integrations, dry_run, status, fine_tuned_model, created_at, run_after)
        values ($1, $2, 'bench-model', $3, null, null, 1, null::jsonb, '{"type":"supervised","supervised":{"hyperparameters":{"n_epochs":"auto","batch_size":"auto","learning_rate_multiplier":"auto"}}}', null::jsonb, false, 'validating_files', $4, $5, $5)
        returning *),
      created_events as (
        insert into job_events (id, job_id, created_at, level, message, type, data, idempotency_key)
        values ($6, $1, $5, 'info', $7, 'message', '{}', 'created'), ($8, $1, $5, 'info', $9, 'message', '{}', 'validating-training')
        on conflict do nothing returning id)
      select * from created_job`
    const pool = new pg.Pool({ connectionString: url.toString(), max: 10 })
    pool.on('error', () => {}) // the database is dropped with (force) at the end
    const bare = Fastify()
    bare.get<{ Params: { id: string } }>('/jobs/:id', async (request) => {
      const { rows } = await pool.query({ name: 'skillet_select_project_job', text: selectJobSql, values: [request.params.id, projectId] })
      return rows[0]
    })
    bare.post('/jobs', async () => {
      await pool.query({ name: 'skillet_select_project_file', text: selectFileSql, values: [fileId, projectId] })
      const id = `ftjob-${randomBase62(24)}`
      const { rows } = await pool.query({ name: 'bench_insert_job_2_events', text: insertJobSql, values: [id, projectId, fileId, `ft:bench-model:bench::${randomBase62(8)}`, unixNow(), `ftevent-${randomBase62(24)}`, `Created fine-tuning job: ${id}`, `ftevent-${randomBase62(24)}`, `Validating training file: ${fileId}`] })
      return rows[0]
    })
    await bare.listen({ port: 0, host: '127.0.0.1' })
    const baseline = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`

    const rows: [string, LoadResult][] = []
    const warm = async (u: string, m = 'GET', b = '', h: Record<string, string> = {}) => {
      for (let i = 0; i < 200; i++) await fetch(u, { method: m, headers: { ...h, ...(b ? { 'content-type': 'application/json' } : {}) }, body: b || undefined }).then((r) => r.arrayBuffer())
    }
    await warm(`${skillet}/v1/fine_tuning/jobs/${created.id}`, 'GET', '', auth)
    await warm(`${baseline}/jobs/${created.id}`)
    /** Skillet and the baseline in alternating slices; returns [skillet, baseline]. */
    const compare = async (ours: Target, theirs: Target): Promise<[LoadResult, LoadResult]> => {
      const slices: [LoadSlice[], LoadSlice[]] = [[], []]
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const)
        for (const which of order) slices[which].push(await runLoad(which === 0 ? ours : theirs))
      }
      return [summarize(slices[0]), summarize(slices[1])]
    }
    const [getOurs, getTheirs] = await compare({ url: `${skillet}/v1/fine_tuning/jobs/${created.id}`, headers: auth }, { url: `${baseline}/jobs/${created.id}` })
    const [postOurs, postTheirs] = await compare({ url: `${skillet}/v1/fine_tuning/jobs`, method: 'POST', body: createBody, headers: auth }, { url: `${baseline}/jobs`, method: 'POST', body: createBody })
    rows.push([`GET  /v1/fine_tuning/jobs/{id}  skillet `, getOurs], [`GET  /v1/fine_tuning/jobs/{id}  baseline`, getTheirs])
    rows.push([`POST /v1/fine_tuning/jobs       skillet `, postOurs], [`POST /v1/fine_tuning/jobs       baseline`, postTheirs])

    console.log(`\n${CONNECTIONS} connections, ${SECONDS}s each in ${ROUNDS} alternating slices, Postgres at ${url.host}\n`)
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

// `npm test`: type-check, run the whole suite on the embedded database (PGlite), then — when
// DATABASE_URL is set — run the database-backed tests again on that Postgres server (DATABASE_TEST_DIRS). Ends with
// one line "N passed, N failed" over both runs.
import { spawn } from 'node:child_process'
import fs from 'node:fs'

/**
 * What runs a second time on Postgres: every folder whose tests are about what the database holds,
 * and the end-to-end jobs whose path through it differs — a job's whole life, pause and cancel,
 * resume after a killed trainer, a missing blob. The other end-to-end files (learning curves,
 * answer evaluation, model families, adapters, reproducibility, the standby trainer: ~7 of the ~13 CPU-minutes the folder
 * takes) spend their time in the trainer, which runs the same on either database.
 */
const DATABASE_TEST_DIRS = ['test/api', 'test/db', 'test/jobs', 'test/running/scheduler', 'test/webhooks', 'test/cli',
  'test/e2e/real-trainer.test.ts', 'test/e2e/real-trainer-pause-cancel.test.ts', 'test/e2e/real-trainer-resume.test.ts',
  'test/e2e/real-trainer-missing-blob.test.ts']

interface Counts {
  pass: number
  fail: number
  skip: number
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk)
      output += chunk.toString()
      if (output.length > 1_000_000) output = output.slice(-100_000)
    })
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

function testFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`)
    .sort()
}

/** Reads tap's closing "# { total: N, pass: N, fail: N, skip: N }". */
function countsOf(output: string, code: number): Counts {
  const m = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?/.exec(output)
  if (!m) return { pass: 0, fail: code === 0 ? 0 : 1, skip: 0 }
  return { pass: Number(m[2] ?? 0), fail: Number(m[3] ?? 0) + (code !== 0 && !m[3] ? 1 : 0), skip: Number(m[4] ?? 0) }
}

const total: Counts = { pass: 0, fail: 0, skip: 0 }
const add = (c: Counts) => {
  total.pass += c.pass
  total.fail += c.fail
  total.skip += c.skip
}

// Trainers in the suite run on one wasm thread: tap runs two files at once on CI's two cores, and the
// thread pool's spin-waits on an oversubscribed machine made real-trainer jobs several times slower.
// test/trainer/wasm-threads.test.ts sets its own thread counts; SKILLET_TRAINER_THREADS overrides this.
process.env.SKILLET_TRAINER_THREADS ??= '1'

const tsc = await run('npx', ['tsc', '--noEmit', '-p', '.'])
add({ pass: tsc.code === 0 ? 1 : 0, fail: tsc.code === 0 ? 0 : 1, skip: 0 })
await run('npx', ['tap', 'build'])

const only = process.argv.slice(2)
const embedded = await run('npx', ['tap', '--reporter=terse', ...only], { ...process.env, SKILLET_TEST_DB: 'pglite' })
add(countsOf(embedded.output, embedded.code))

if (process.env.DATABASE_URL) {
  const dirs = (only.length > 0 ? only : DATABASE_TEST_DIRS).filter((d) => fs.existsSync(d))
  // tap takes files, not folders, once `include` is configured.
  const files = dirs.flatMap((d) => (fs.statSync(d).isDirectory() ? testFilesIn(d) : [d]))
  if (files.length > 0) {
    process.stdout.write(`\n# again on Postgres (${new URL(process.env.DATABASE_URL).host}): ${dirs.join(' ')}\n`)
    const pg = await run('npx', ['tap', '--reporter=terse', ...files], { ...process.env, SKILLET_TEST_DB: 'postgres' })
    add(countsOf(pg.output, pg.code))
  }
}

process.stdout.write(`\n${total.pass} passed, ${total.fail} failed${total.skip ? `, ${total.skip} skipped` : ''}\n`)
process.exitCode = total.fail > 0 ? 1 : 0

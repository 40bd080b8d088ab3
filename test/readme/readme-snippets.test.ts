// The README's examples, run as written against a started server: the quickstart's health checks,
// curl commands and openai SDK snippet (extracted from README.md, not copied), the admin curl
// commands, the trainer's stand-alone commands and `npm run demo` itself. Only what must differ here
// is substituted: the server's address (an ephemeral port), the ids a command prints (the README's
// `file-…`, `ftjob-…`, `proj_…`, `key_…`), and the output folder `data/` (a temporary one).
// Not run: `npm run migrate` (it opens the data dir the server holds), the webhook snippet (a fragment for a receiver reachable from the internet), Helm and
// Docker (not available here), `npm ci` / `npm test` and the development commands.
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort, startServerProcess } from '../helpers/server-process.ts'
import { readmeBlock, shellCommands } from '../helpers/readme-blocks.ts'
import { tmpDir } from '../helpers/test-app.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const KEY = 'sk-readme-snippets-0123456789abcdef'
const run = promisify(execFile)

/** Runs one README shell command from the repository root, as a reader would. */
async function sh(command: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('bash', ['-c', command], { cwd: ROOT, env: { ...process.env, SKILLET_API_KEY: KEY, ...env }, maxBuffer: 1 << 24 })
  return stdout
}

/** Replaces the README's address with the server's, and each `prefix…` placeholder with the id last printed with that prefix. */
function substitute(command: string, baseURL: string, ids: Map<string, string>): string {
  let out = command.replaceAll('http://localhost:8080', baseURL).replaceAll('localhost:8080', baseURL.replace(/^http:\/\//, ''))
  for (const [prefix, id] of ids) out = out.replaceAll(`${prefix}…`, id)
  if (out.includes('…')) throw new Error(`a placeholder is left in: ${out}`)
  return out
}

function recordId(ids: Map<string, string>, body: { id?: unknown }): void {
  const m = typeof body.id === 'string' ? /^(file-|ftjob-|proj_|key_)/.exec(body.id) : null
  if (m) ids.set(m[1], body.id as string)
}

t.test('the quickstart against a started server: health, curl, the openai SDK, the admin routes', async (t) => {
  const dir = await tmpDir(t, 'skillet-readme-')
  const server = await startServerProcess({ SKILLET_DATA_DIR: path.join(dir, 'data'), SKILLET_API_KEY: KEY, SKILLET_METRICS_PORT: '0' })
  t.teardown(() => server.stop())
  const ids = new Map<string, string>()

  await t.test('health: each command prints what its comment says', async (t) => {
    const commands = shellCommands(readmeBlock('Quickstart', 'sh', '/healthz').code)
    t.equal(commands.length, 2)
    for (const command of commands) {
      const expected = /#\s*(.+)$/.exec(command)![1].trim()
      t.equal((await sh(substitute(command, server.baseURL, ids))).trim(), expected, command)
    }
    t.same(await (await fetch(`${server.baseURL}/health`)).json(), { status: 'ok' }, '/health, as the text says')
  })

  await t.test('with curl: upload, create a job, list its events', async (t) => {
    const [exportLine, ...commands] = shellCommands(readmeBlock('With curl', 'sh').code)
    t.match(exportLine, /^export SKILLET_API_KEY=sk-…/, 'the block starts by exporting the key (set here from the test)')
    const bodies = []
    for (const command of commands) {
      const body = JSON.parse(await sh(substitute(command, server.baseURL, ids))) as { id?: string; object?: string; status?: string; data?: unknown[] }
      recordId(ids, body)
      bodies.push(body)
    }
    t.match(bodies[0], { object: 'file', purpose: 'fine-tune', filename: 'train.jsonl' }, 'the file is uploaded')
    t.match(bodies[1], { object: 'fine_tuning.job', model: 'skillet-tiny-llama', status: 'validating_files' }, 'the job is created')
    t.match(bodies[2], { object: 'list' }, 'its events are listed')
    t.ok(bodies[2].data!.length >= 1, `${bodies[2].data!.length} events so far`)
  })

  await t.test('with the openai SDK: the snippet waits and prints the outcome its comment promises', async (t) => {
    const code = readmeBlock('With the openai SDK', 'ts').code
    const promised = /console\.log\(job\.status, job\.fine_tuned_model\) \/\/ (.+)$/m.exec(code)?.[1]
    t.ok(promised, 'the snippet ends by printing the status and the model')
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(process.execPath, ['--input-type=module-typescript'], { cwd: ROOT, env: { ...process.env, SKILLET_API_KEY: KEY }, timeout: 180_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout })))
      child.stdin!.end(substitute(code, server.baseURL, new Map()))
    })
    const shape = (line: string) => line.trim().replace(/:[A-Za-z0-9]{8}$/, ':XXXXXXXX').replace(/:default:/, ':PROJECT:')
    t.match(stdout.trim(), /^succeeded ft:skillet-tiny-llama:[^:]+:demo:[A-Za-z0-9]{8}$/, `printed: ${stdout.trim()}`)
    t.equal(shape(stdout), shape(promised!), 'the same shape as the comment in the README')
  })

  await t.test('the admin routes: list, create a project, create a key, revoke it', async (t) => {
    const commands = shellCommands(readmeBlock('Auth and projects', 'sh', '/v1/organization/projects').code)
    t.equal(commands.length, 4)
    const bodies = []
    for (const command of commands) {
      const body = JSON.parse(await sh(substitute(command, server.baseURL, ids))) as { id?: string; object?: string }
      recordId(ids, body)
      bodies.push(body)
    }
    t.match(bodies[0], { object: 'list' })
    t.match(bodies[1], { object: 'organization.project', name: 'research' })
    t.match(bodies[2], { object: 'organization.project.api_key', name: 'ci' })
    t.match(bodies[3], { deleted: true })
  })

  await t.test('skillet keys: create, list, revoke through the running server (not `npm run migrate`: the server holds the data dir)', async (t) => {
    const commands = shellCommands(readmeBlock('Auth and projects', 'sh', 'keys create').code).filter((c) => c.includes(' keys '))
    t.equal(commands.length, 3)
    const env = { PORT: new URL(server.baseURL).port, SKILLET_DATA_DIR: path.join(dir, 'data') }
    const created = await sh(substitute(commands[0], server.baseURL, ids), env)
    const id = /created (key_\S+) for project research/.exec(created)?.[1]
    t.ok(id, `created: ${created.split('\n').find((l) => l.startsWith('> ') === false && l.includes('created'))}`)
    ids.set('key_', id!)
    t.match(await sh(substitute(commands[1], server.baseURL, ids), env), new RegExp(`^${id}\tresearch\t`, 'm'), 'listed')
    t.match(await sh(substitute(commands[2], server.baseURL, ids), env), new RegExp(`revoked ${id}`), 'revoked')
  })
})

t.test("the trainer's stand-alone commands", async (t) => {
  const dir = await tmpDir(t, 'skillet-readme-trainer-')
  const commands = shellCommands(readmeBlock('Trainer', 'sh', 'make-tiny-model').code)
  t.equal(commands.length, 2)
  for (const command of commands) await sh(command.replaceAll('data/', `${dir}/`))
  const written = fs.readdirSync(path.join(dir, 'tiny-lora'), { recursive: true, encoding: 'utf8' })
  for (const name of ['adapter_model.safetensors', 'model.safetensors']) t.ok(written.some((f) => f.endsWith(name)), `${name} written`)
  t.ok(written.some((f) => f.endsWith('.gguf')), 'a GGUF written')
})

t.test('npm run demo: trains on defaults, the loss falls, and it ends with what to do next', async (t) => {
  t.match(readmeBlock('Quickstart', 'sh', 'npm run demo').code, /npm ci && npm run demo/)
  const dir = await tmpDir(t, 'skillet-readme-demo-')
  const port = await freePort()
  const child = spawn('npm', ['run', 'demo'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SKILLET_DATA_DIR: path.join(dir, 'data'), SKILLET_METRICS_PORT: '0', SKILLET_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM')
    await exited
  })
  const deadline = Date.now() + 400_000
  while (!out.includes('Ctrl-C stops it') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  t.match(out, /^job succeeded /m, 'the job succeeded')
  const loss = /^training loss ([\d.]+) at step 1 → ([\d.]+) over the last/m.exec(out)
  t.ok(loss && Number(loss[2]) < 0.7 * Number(loss[1]), `the loss fell: ${loss?.[0]}`)
  t.match(out, /^ {2}skillet-tiny-llama answers "/m, 'the base model is asked')
  t.match(out, /^ {2}ft:skillet-tiny-llama:\S+ answers "Word:/m, 'the fine-tuned model answers in the dataset\'s format')
  const key = /^ {2}export SKILLET_API_KEY=(sk-[A-Za-z0-9]+)$/m.exec(out)?.[1]
  t.ok(key, 'the key to export')
  const curl = /^ {2}(curl -s \S+\/v1\/fine_tuning\/jobs .*)$/m.exec(out)?.[1]
  t.ok(curl, 'a curl to try')
  const listed = JSON.parse(await sh(curl!, { SKILLET_API_KEY: key! })) as { object: string; data: { status: string }[] }
  t.match(listed, { object: 'list', data: [{ status: 'succeeded' }] }, 'the curl works with the exported key')
  t.match(out, new RegExp(`Dashboard: http://127\\.0\\.0\\.1:${port}/ .*API docs: http://127\\.0\\.0\\.1:${port}/docs`), 'where the dashboard and the docs are')
  const dashboard = await fetch(`http://127.0.0.1:${port}/`)
  t.equal(dashboard.status, 200, 'the dashboard answers at /')
  t.match(out, /`npm start` later serves the same data dir/, 'that npm start reuses the data dir and the key')
})

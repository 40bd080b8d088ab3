// `skillet keys …` while a server holds the embedded data dir: PGlite allows one process, so the CLI
// goes through the server's admin routes instead of crashing on the lock.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startServerProcess } from '../helpers/server-process.ts'
import { tmpDir } from '../helpers/test-app.ts'

const CLI = fileURLToPath(new URL('../../src/cli/skillet.ts', import.meta.url))
const ADMIN_KEY = `sk-${'a'.repeat(20)}livecli`

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code, out }))
  })
}

// Embedded mode only: on Postgres there is no data-dir lock and the CLI opens the database itself.
t.test('keys create / list / revoke through a running embedded server', { skip: process.env.SKILLET_TEST_DB === 'postgres' ? 'embedded (PGlite) mode only' : false }, async (t) => {
  const dataDir = await tmpDir(t)
  const server = await startServerProcess({ SKILLET_DATA_DIR: dataDir, SKILLET_API_KEY: ADMIN_KEY, SKILLET_UI: 'false', SKILLET_METRICS_PORT: '0' })
  t.teardown(() => server.stop())
  const port = new URL(server.baseURL).port
  const env = { SKILLET_DATA_DIR: dataDir, SKILLET_API_KEY: ADMIN_KEY, PORT: port }

  const created = await cli(['keys', 'create', '--project', 'research', '--name', 'ci'], env)
  t.equal(created.code, 0, 'exits 0')
  const [, keyId, key] = /^created (key_\w+) for project research; the key is shown only this once:\n(sk-\w+)\n$/.exec(created.out) ?? []
  t.ok(keyId && key, 'prints the id and the key once')
  const files = await fetch(`${server.baseURL}/v1/files`, { headers: { authorization: `Bearer ${key}` } })
  t.equal(files.status, 200, 'the new key works on the running server at once')

  const listed = await cli(['keys', 'list', '--project', 'research'], env)
  t.equal(listed.code, 0)
  t.equal(listed.out, `${keyId}\tresearch\tci\t…${key.slice(-4)}\tmember\tactive\n`)
  t.notOk(listed.out.includes(key), 'never the secret')

  const revoked = await cli(['keys', 'revoke', keyId], env)
  t.same(revoked, { code: 0, out: `revoked ${keyId}\n` })
  t.same(await cli(['keys', 'revoke', keyId], env), { code: 1, out: `no active key ${keyId}\n` })
  t.match((await cli(['keys', 'list', '--project', 'research'], env)).out, /\trevoked\n$/)

  const noKey = await cli(['keys', 'list'], { SKILLET_DATA_DIR: dataDir, PORT: port })
  t.equal(noKey.code, 1)
  t.match(noKey.out, /^skillet: a running server holds .*; set SKILLET_API_KEY to an admin key to manage keys through it/)
  t.notOk(noKey.out.includes('    at '), 'no stack trace')

  const member = await cli(['keys', 'list'], { ...env, SKILLET_API_KEY: key })
  t.equal(member.code, 1)
  t.match(member.out, /answered 401: Incorrect API key provided/, 'a revoked key: the server\'s message, no stack trace')
  t.notOk(member.out.includes('    at '))

  const migrate = await cli(['migrate'], env)
  t.equal(migrate.code, 1)
  t.match(migrate.out, /^skillet: the data dir .* is in use by process \d+/)
})

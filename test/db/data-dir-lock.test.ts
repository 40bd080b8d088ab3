import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { acquireDataDirLock, DataDirLockedError, DataDirLockError, processStartTime } from '../../src/db/data-dir-lock.ts'
import { tmpDir } from '../helpers/test-app.ts'

t.test('a data dir held by a live process is refused; a stale lock is taken over', async (t) => {
  const dir = await tmpDir(t)
  // Another live process "holds" the dir: write its pid into the lock.
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
  t.teardown(() => sleeper.kill())
  await fs.writeFile(path.join(dir, 'skillet.lock'), String(sleeper.pid))
  await t.rejects(acquireDataDirLock(dir), DataDirLockedError)

  sleeper.kill()
  await new Promise((r) => sleeper.once('exit', r))
  const release = await acquireDataDirLock(dir)
  t.match(await fs.readFile(path.join(dir, 'skillet.lock'), 'utf8'), new RegExp(`^${process.pid}( \\d+)?$`))
  await release()
  await t.rejects(fs.stat(path.join(dir, 'skillet.lock')), { code: 'ENOENT' })
})

t.test('the embedded database refuses a second opener', async (t) => {
  const { openDatabase } = await import('../../src/db/database.ts')
  const dir = await tmpDir(t)
  // The lock is per process; a child process opens the dir while we hold it.
  const first = await openDatabase({ driver: 'pglite', dataDir: dir })
  const child = spawn(process.execPath, ['-e', `import('${new URL('../../src/db/database.ts', import.meta.url).href}').then(m => m.openDatabase({driver:'pglite', dataDir:${JSON.stringify(dir)}})).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3) })`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((r) => child.once('exit', r))
  t.equal(code, 3)
  t.match(stderr, /in use by process/)
  await first.close()
})

t.test('a pid reused by another process does not block start-up; an unknown start time gets a hint', async (t) => {
  const dir = await tmpDir(t)
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
  t.teardown(() => sleeper.kill())
  const lockPath = path.join(dir, 'skillet.lock')
  // The lock names a live pid, but with a start time that is not that process': the holder is long gone.
  await fs.writeFile(lockPath, `${sleeper.pid} 1`)
  t.not(processStartTime(sleeper.pid!), '1')
  const release = await acquireDataDirLock(dir)
  await release()
  // An old-style lock (pid only): refused, with the way out named.
  await fs.writeFile(lockPath, String(sleeper.pid))
  await t.rejects(acquireDataDirLock(dir), { name: 'DataDirLockedError', message: new RegExp(`is not Skillet \\(a pid reused after a restart\\), delete ${lockPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) })
})

t.test('a lock path that is a directory, or a data dir that is a file: one clear line', async (t) => {
  const dir = await tmpDir(t)
  await fs.mkdir(path.join(dir, 'skillet.lock'))
  await t.rejects(acquireDataDirLock(dir), { name: 'DataDirLockError', message: /skillet\.lock is a directory, not a file: remove it/ })
  const file = path.join(dir, 'plain-file')
  await fs.writeFile(file, 'x')
  const err = await acquireDataDirLock(path.join(file, 'data')).then(() => null, (e: unknown) => e)
  t.ok(err instanceof DataDirLockError, String(err))
  t.notMatch(String((err as Error).message), /\n/, 'one line')
})

t.test('the server prints one line and exits 1 when the lock cannot be taken', async (t) => {
  const dir = await tmpDir(t)
  await fs.mkdir(path.join(dir, 'skillet.lock'))
  const child = spawn(process.execPath, [new URL('../../src/server.ts', import.meta.url).pathname], {
    env: { ...process.env, SKILLET_DATA_DIR: dir, PORT: '0', SKILLET_METRICS_PORT: '0', DATABASE_URL: '', SKILLET_S3_BUCKET: '', SKILLET_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((r) => child.once('exit', r))
  t.equal(code, 1)
  t.match(stderr, /^skillet: the lock path .*skillet\.lock is a directory, not a file: remove it.*\n$/)
  t.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`)
})

import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { acquireDataDirLock, DataDirLockedError } from '../../src/db/data-dir-lock.ts'
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
  t.equal(await fs.readFile(path.join(dir, 'skillet.lock'), 'utf8'), String(process.pid))
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

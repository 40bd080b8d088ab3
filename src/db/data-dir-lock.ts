// Refuses to open an embedded data dir that another live process holds. The lock file
// ${dir}/skillet.lock holds "<pid> <start time>" of its holder; a lock whose process is gone, or
// whose pid now belongs to another process (a pid reused after a restart: its start time differs),
// is taken over. Every problem with the lock is a DataDirLockError with one line saying what to do.
import { readFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'

export class DataDirLockError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DataDirLockError'
  }
}

export class DataDirLockedError extends DataDirLockError {
  constructor(dir: string, pid: number, lockPath: string, startKnown: boolean) {
    super(
      `the data dir ${dir} is in use by process ${pid}; the embedded database allows one process at a time ` +
        `(stop that process, point SKILLET_DATA_DIR elsewhere, or set DATABASE_URL to use Postgres)` +
        (startKnown ? '' : `; if process ${pid} is not Skillet (a pid reused after a restart), delete ${lockPath}`),
    )
    this.name = 'DataDirLockedError'
  }
}

/** When a process started (clock ticks since boot, /proc/<pid>/stat field 22), or null where unknown. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function lockProblem(err: NodeJS.ErrnoException, lockPath: string, dir: string): DataDirLockError {
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new DataDirLockError(`cannot write the lock file ${lockPath} (${err.code}): make the data dir ${dir} writable for this user, or set SKILLET_DATA_DIR to a writable folder`)
    case 'EISDIR':
      return new DataDirLockError(`the lock path ${lockPath} is a directory, not a file: remove it (no Skillet process uses a directory there)`)
    case 'ENOTDIR':
      return new DataDirLockError(`the data dir ${dir} is not a folder: set SKILLET_DATA_DIR to a folder`)
    default:
      return new DataDirLockError(`cannot take the lock file ${lockPath}: ${err.message}`)
  }
}

/** Takes ${dir}/skillet.lock; a lock left by a dead (or reused) process is taken over. Returns the release function. */
export async function acquireDataDirLock(dir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dir, 'skillet.lock')
  const fail = (err: unknown): never => {
    throw err instanceof DataDirLockError ? err : lockProblem(err as NodeJS.ErrnoException, lockPath, dir)
  }
  await fs.mkdir(dir, { recursive: true }).catch(fail)
  const mine = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim()
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(lockPath, 'wx')
      await handle.writeFile(mine)
      await handle.close()
      return async () => {
        await fs.rm(lockPath, { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail(err)
      const stats = await fs.stat(lockPath).catch(() => null)
      if (stats?.isDirectory()) fail(Object.assign(new Error('is a directory'), { code: 'EISDIR' }))
      const [pidText, started] = (await fs.readFile(lockPath, 'utf8').catch(() => '')).trim().split(/\s+/)
      const pid = Number(pidText)
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        const now = processStartTime(pid)
        // The same pid with another start time is another process: the holder is gone.
        const reused = started !== undefined && now !== null && now !== started
        if (!reused) throw new DataDirLockedError(dir, pid, lockPath, started !== undefined && now !== null)
      }
      await fs.rm(lockPath, { force: true }).catch(fail) // stale: its process is gone
    }
  }
  throw new DataDirLockError(`could not take the lock ${lockPath}: another process took it at the same moment; try again`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

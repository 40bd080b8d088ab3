// Refuses to open an embedded data dir that another live process holds.
import fs from 'node:fs/promises'
import path from 'node:path'

export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `the data dir ${dir} is in use by process ${pid}; the embedded database allows one process at a time ` +
        `(stop that process, point SKILLET_DATA_DIR elsewhere, or set DATABASE_URL to use Postgres)`,
    )
    this.name = 'DataDirLockedError'
  }
}

/** Takes ${dir}/skillet.lock (holding our pid); a lock left by a dead process is taken over. Returns the release function. */
export async function acquireDataDirLock(dir: string): Promise<() => Promise<void>> {
  await fs.mkdir(dir, { recursive: true })
  const lockPath = path.join(dir, 'skillet.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(lockPath, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return async () => {
        await fs.rm(lockPath, { force: true })
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number((await fs.readFile(lockPath, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataDirLockedError(dir, pid)
      await fs.rm(lockPath, { force: true }) // stale: its process is gone
    }
  }
  throw new Error(`could not take the lock ${lockPath}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

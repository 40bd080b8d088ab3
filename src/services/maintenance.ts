// Periodic housekeeping: expired files and uploads, and blobs nothing points to any more.
import type { Logger } from 'pino'
import type { AppServices } from './app-services.ts'
import { collectGarbage, expireFiles } from './files.ts'
import { expireUploads } from './uploads.ts'

export function startMaintenance(services: AppServices, log: Logger, everyMs = 60_000): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve()
  const tick = () => {
    running = (async () => {
      const expiredFiles = await expireFiles(services.files)
      const expiredUploads = await expireUploads(services.files)
      const swept = await collectGarbage(services.files)
      if (expiredFiles + expiredUploads + swept > 0) log.info({ expiredFiles, expiredUploads, swept }, 'maintenance')
    })().catch((err) => log.warn({ err }, 'maintenance failed; will retry'))
  }
  tick()
  const timer = setInterval(tick, everyMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}

// Periodic housekeeping: expired files and uploads, and blobs nothing points to any more.
import type { Logger } from 'pino'
import type { AppServices } from './app-services.ts'
import { collectGarbage, expireFiles } from './files.ts'
import { expireUploads } from './uploads.ts'
import { startLoop } from '../lib/loop.ts'

export function startMaintenance(services: AppServices, log: Logger, everyMs = 60_000): { stop(): Promise<void> } {
  return startLoop({
    everyMs,
    pass: async () => {
      const expiredFiles = await expireFiles(services.files)
      const expiredUploads = await expireUploads(services.files)
      const swept = await collectGarbage(services.files)
      if (expiredFiles + expiredUploads + swept > 0) log.info({ expiredFiles, expiredUploads, swept }, 'maintenance')
    },
    onError: (err) => log.warn({ err }, 'maintenance failed; will retry'),
  })
}

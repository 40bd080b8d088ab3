// Periodic housekeeping (at start, then every minute): expired files and uploads, blobs nothing
// points to any more, and the temp files of blob writes a crash interrupted.
import type { Logger } from 'pino'
import type { AppServices } from './app-services.ts'
import { collectGarbage, expireFiles } from './files.ts'
import { expireUploads } from './uploads.ts'
import { startLoop } from '../lib/loop.ts'

/** A blob write whose temp file has not grown for this long was abandoned (a live upload writes all the time). */
export const ABANDONED_WRITE_IDLE_MS = 15 * 60_000

export function startMaintenance(services: AppServices, log: Logger, everyMs = 60_000): { stop(): Promise<void> } {
  return startLoop({
    everyMs,
    pass: async () => {
      const expiredFiles = await expireFiles(services.files)
      const expiredUploads = await expireUploads(services.files)
      const swept = await collectGarbage(services.files)
      const abandonedWrites = await services.blobs.sweepAbandonedWrites(ABANDONED_WRITE_IDLE_MS)
      if (expiredFiles + expiredUploads + swept + abandonedWrites > 0) log.info({ expiredFiles, expiredUploads, swept, abandonedWrites }, 'maintenance')
    },
    onError: (err) => log.warn({ err }, 'maintenance failed; will retry'),
  })
}

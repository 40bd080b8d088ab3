// The training-speed calibration behind the estimate's seconds. Each succeeded job's trainer
// reports what it measured (steady-state tokens per second, and the seconds spent besides training:
// start, model load, checkpoint exports, final exports); they are folded into a moving average per
// base model and backend. The estimate of the next job on that base model reads the latest figure
// (the backend a job will get is only known once its trainer starts), and falls back to
// SKILLET_ESTIMATE_TOKENS_PER_SECOND with no overhead before any job finished.
import { desc, eq, sql } from 'drizzle-orm'
import { trainingSpeeds } from '../db/schema/index.ts'
import { unixNow } from '../lib/ids.ts'
import type { Tx } from './job-store.ts'

export interface TrainingSpeed {
  tokensPerSecond: number
  overheadSeconds: number
  /** The backend it was measured on; null for the configured default. */
  backend: string | null
  /** Finished jobs it was measured on (0: the configured default). */
  jobs: number
}

/** Weight of the newest job in the moving average. */
const NEWEST_WEIGHT = 0.5

/** The speed to estimate a job on `baseModel` with. */
export async function trainingSpeedFor(tx: Tx, baseModel: string, defaultTokensPerSecond: number): Promise<TrainingSpeed> {
  const [row] = await tx.select().from(trainingSpeeds).where(eq(trainingSpeeds.baseModel, baseModel)).orderBy(desc(trainingSpeeds.updatedAt)).limit(1)
  if (!row) return { tokensPerSecond: defaultTokensPerSecond, overheadSeconds: 0, backend: null, jobs: 0 }
  return { tokensPerSecond: row.tokensPerSecond, overheadSeconds: row.overheadSeconds, backend: row.backend, jobs: row.jobs }
}

/** Folds one finished job's measurement into its base model and backend's figure. */
export async function recordTrainingSpeed(tx: Tx, baseModel: string, measured: { backend: string; tokensPerSecond: number; overheadSeconds: number }): Promise<void> {
  const w = NEWEST_WEIGHT
  await tx.insert(trainingSpeeds)
    .values({ baseModel, backend: measured.backend, tokensPerSecond: measured.tokensPerSecond, overheadSeconds: measured.overheadSeconds, jobs: 1, updatedAt: unixNow() })
    .onConflictDoUpdate({
      target: [trainingSpeeds.baseModel, trainingSpeeds.backend],
      set: {
        tokensPerSecond: sql`${1 - w} * ${trainingSpeeds.tokensPerSecond} + ${w} * excluded.tokens_per_second`,
        overheadSeconds: sql`${1 - w} * ${trainingSpeeds.overheadSeconds} + ${w} * excluded.overhead_seconds`,
        jobs: sql`${trainingSpeeds.jobs} + 1`,
        updatedAt: sql`excluded.updated_at`,
      },
    })
}

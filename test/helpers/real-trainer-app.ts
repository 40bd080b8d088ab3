// A test API whose scheduler launches the real trainer (`node src/cli/trainer.ts`) through the
// real local executor, on the demo base model the server generates on first start.
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import type { Test } from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { LocalExecutor, type LocalExecutorOptions } from '../../src/running/local/local-executor.ts'
import { blobStoreEnv } from '../../src/config/blob-store-env.ts'
import { ensureDemoModel } from '../../src/models/demo-model.ts'
import { startScheduler } from '../../src/running/start-scheduler.ts'
import { startTestApp, type TestApp, type TestAppOptions } from './test-app.ts'

export const REAL_TRAINER = fileURLToPath(new URL('../../src/cli/trainer.ts', import.meta.url))

/**
 * `trainerEnv` is added to each trainer's environment (SKILLET_TRAINER_* settings), `appEnv` to the
 * API's; `executorOptions` overrides the local executor's options (warmTrainers: standbys, off by default here; log).
 */
export async function startRealTrainerApp(
  t: Test,
  trainerEnv: Record<string, string> = {},
  appEnv: Record<string, string> = {},
  appOptions: Omit<TestAppOptions, 'env'> = {},
  executorOptions: Partial<Pick<LocalExecutorOptions, 'warmTrainers' | 'log'>> = {},
): Promise<TestApp & { executor: LocalExecutor }> {
  const ctx = await startTestApp(t, { ...appOptions, env: { SKILLET_SCHEDULER_INTERVAL_MS: '100', SKILLET_RATE_LIMIT_PER_MINUTE: '1000000', ...appEnv } })
  const demo = ctx.config.jobs.baseModels[DEMO_MODEL_ID]
  if (ctx.config.jobs.demoModel && demo?.kind === 'dir') await ensureDemoModel(demo.path) // what the server does on first start
  const log = pino({ level: process.env.SKILLET_TEST_LOG ?? 'silent' })
  const executor = new LocalExecutor({
    command: [process.execPath, REAL_TRAINER],
    maxConcurrent: 1,
    env: { ...blobStoreEnv(ctx.config), SKILLET_TRAINER_BACKEND: 'wasm', ...trainerEnv },
    ...executorOptions,
    log: executorOptions.log ?? log,
  })
  const scheduler = startScheduler(ctx.services, { log, callbackUrl: ctx.baseURL.replace(/\/v1$/, '/internal/v1'), executor })
  t.teardown(() => scheduler.stop())
  return { ...ctx, executor }
}

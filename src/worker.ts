// The worker process: runs the job scheduler (validation, claiming, trainers, the reaper) apart
// from the API, for deployments with SKILLET_RUN_WORKER=false on the API replicas. Several workers
// may run against one Postgres; claims use FOR UPDATE SKIP LOCKED. (The webhook dispatcher and the
// Kubernetes reconciler are started here too once wired.)
// Needs SKILLET_CALLBACK_URL: the address trainers use to reach an API replica.
import { ConfigError, loadConfig } from './config/index.ts'
import { createLogger } from './lib/logger.ts'
import { openRuntime } from './runtime.ts'
import { createAppServices } from './services/app-services.ts'
import { prepareDemoModel } from './models/prepare-demo-model.ts'
import { defaultCallbackUrl, startScheduler } from './queue/start-scheduler.ts'

async function main(): Promise<void> {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`skillet worker: ${err.message}\n`)
      process.exit(78) // EX_CONFIG
    }
    throw err
  }
  const log = createLogger(config.logLevel).child({ process: 'worker' })
  const runtime = await openRuntime(config, log)
  await prepareDemoModel(config, log)
  const services = createAppServices({ config, database: runtime.database, blobs: runtime.blobs, log })
  const running = startScheduler(services, { log, callbackUrl: defaultCallbackUrl(config, config.port) })
  log.info({ owner: running.scheduler.owner }, 'worker started')

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'worker stopping')
    await running.stop()
    await runtime.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

await main()

// The worker process, started by src/worker.ts: runs the job scheduler (validation, claiming, trainers, the reaper; with
// SKILLET_EXECUTOR=kubernetes the Job reconciler and orphan sweep too), the webhook dispatcher and
// maintenance apart from the API, for deployments with SKILLET_RUN_WORKER=false on the API replicas.
// Several workers may run against one Postgres; claims use FOR UPDATE SKIP LOCKED.
// Needs SKILLET_INTERNAL_URL: the address trainers use to reach an API replica. Metrics are served on
// SKILLET_METRICS_PORT.
import { loadConfigOrExit } from './config/index.ts'
import { createLogger } from './lib/logger.ts'
import { openRuntimeOrExit } from './runtime.ts'
import { createAppServices } from './services/app-services.ts'
import { prepareDemoModel } from './models/prepare-demo-model.ts'
import { defaultCallbackUrl } from './running/start-scheduler.ts'
import { startBackground } from './background.ts'
import { SkilletMetrics } from './metrics/skillet-metrics.ts'
import { startMetricsServer } from './metrics/metrics-server.ts'

async function main(): Promise<void> {
  const config = loadConfigOrExit('skillet worker')
  const log = createLogger(config.logLevel).child({ process: 'worker' })
  const runtime = await openRuntimeOrExit(config, log, 'skillet worker')
  await prepareDemoModel(config, log)
  const services = createAppServices({ config, database: runtime.database, blobs: runtime.blobs, log })
  const metrics = new SkilletMetrics()
  const metricsServer = config.metrics.port ? await startMetricsServer(metrics, { host: config.host, port: config.metrics.port, log }) : null
  const background = await startBackground(services, { log, callbackUrl: defaultCallbackUrl(config, config.port), metrics })
  log.info({ owner: background.running.scheduler.owner, executor: config.executor.kind }, 'worker started')

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'worker stopping')
    await background.stop()
    await metricsServer?.close()
    await services.tasks.drain()
    await runtime.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

await main()

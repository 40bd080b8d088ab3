// The API process, started by src/server.ts: reads the configuration, opens the database and blob
// store, listens, and on SIGTERM/SIGINT stops taking requests, lets in-flight requests and uploads
// finish, then exits.
import { buildApp } from './app.ts'
import { loadConfigOrExit } from './config/index.ts'
import { createLogger } from './lib/logger.ts'
import { PhaseTimer } from './lib/phase-timer.ts'
import { openRuntimeOrExit } from './runtime.ts'
import { bootstrapAdminKey } from './services/projects.ts'
import { createAppServices } from './services/app-services.ts'
import { prepareDemoModel } from './models/prepare-demo-model.ts'
import { defaultCallbackUrl } from './running/start-scheduler.ts'
import { startBackground } from './background.ts'
import { SkilletMetrics } from './metrics/skillet-metrics.ts'
import { startMetricsServer } from './metrics/metrics-server.ts'
import { ensureUiBundle } from './ui/build/ui-bundle.ts'

async function main(): Promise<void> {
  const startup = new PhaseTimer()
  const config = loadConfigOrExit('skillet')
  const log = createLogger(config.logLevel)
  const runtime = await openRuntimeOrExit(config, log, 'skillet')
  startup.lap('database')
  const { generated } = await bootstrapAdminKey(runtime.database.db, config.apiKey)
  if (generated) {
    // Printed once, to the terminal only (not through the logger): it is not stored anywhere else.
    process.stdout.write(`\nSkillet generated an admin API key for the default project (shown only this once):\n\n    ${generated}\n\n`)
  }
  await prepareDemoModel(config, log)
  startup.lap('demo_model')
  const services = createAppServices({ config, database: runtime.database, blobs: runtime.blobs, log })
  const metrics = new SkilletMetrics()
  metrics.watchDatabase(runtime.database.db)
  // The dashboard: normally built by `npm ci`; built now, in the background, when missing or stale.
  const ui = config.ui ? await ensureUiBundle() : undefined
  if (ui && !ui.isReady()) log.info({ dir: ui.dir }, 'building the dashboard bundle (first start)')
  const app = await buildApp({ services, logger: log, metrics, ui })
  startup.lap('app')
  await app.listen({ port: config.port, host: config.host })
  startup.lap('listen')
  const metricsServer = config.metrics.port ? await startMetricsServer(metrics, { host: config.host, port: config.metrics.port, log }) : null
  await services.recover()
  // Embedded mode runs the scheduler (with its executor), the webhook dispatcher and maintenance in
  // this process; with SKILLET_RUN_WORKER=false a separate `node src/worker.ts` does.
  const address = app.server.address()
  const port = address && typeof address === 'object' ? address.port : config.port
  const background = config.jobs.runWorkerInProcess ? await startBackground(services, { log, callbackUrl: defaultCallbackUrl(config, port), metrics }) : null
  startup.lap('background')
  log.info({ startup_ms: startup.phases, total_ms: startup.totalMs }, `Skillet started in ${(startup.totalMs / 1000).toFixed(1)} s`)

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down: draining in-flight requests')
    const force = setTimeout(() => {
      log.error('shutdown grace period over; exiting with requests still open')
      process.exit(1)
    }, config.shutdownGraceMs)
    force.unref()
    await background?.stop()
    await app.close()
    await metricsServer?.close()
    await services.tasks.drain()
    await runtime.close()
    log.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

await main()

// On embedded defaults (no SKILLET_BASE_MODELS) the demo model is generated on first start.
import type { Logger } from 'pino'
import { DEMO_MODEL_ID, type Config } from '../config/index.ts'
import { ensureDemoModel } from './demo-model.ts'

export async function prepareDemoModel(config: Config, log: Logger): Promise<void> {
  const demo = config.jobs.baseModels[DEMO_MODEL_ID]
  if (!config.jobs.demoModel || demo?.kind !== 'dir') return
  const started = Date.now()
  if (await ensureDemoModel(demo.path)) log.info({ model: DEMO_MODEL_ID, dir: demo.path, ms: Date.now() - started }, 'generated the demo base model')
}

// What the inference routes need: the model a request names (project-scoped) and the engine.
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import type { Db } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { join } from 'node:path'
import type { InferenceEngine } from './engine.ts'
import { EmbeddedEngine } from './embedded-engine.ts'
import { RemoteEngine } from './remote-engine.ts'
import { resolveModel, type ResolveDeps } from './resolve-model.ts'
import type { ServedModel } from './served-model.ts'

export interface InferenceDeps {
  resolve(projectId: string, model: string): Promise<ServedModel>
  engine: InferenceEngine
}

export function createInference(deps: { config: Config; db: Db; blobs: BlobStore; log: Logger; engine?: InferenceEngine; startedAt: number }): InferenceDeps {
  const { config } = deps
  const resolveDeps: ResolveDeps = {
    db: deps.db,
    blobs: deps.blobs,
    baseModels: config.jobs.baseModels,
    hubEndpoint: config.jobs.hubEndpoint,
    hubToken: config.jobs.hubToken,
    startedAt: deps.startedAt,
    log: deps.log,
    workDir: join(config.dataDir, 'inference'),
  }
  const { url } = config.inference
  const engine =
    deps.engine ??
    (url
      ? new RemoteEngine({ config: { ...config.inference, url }, blobs: deps.blobs, log: deps.log })
      : new EmbeddedEngine({ config: config.inference, blobs: deps.blobs, cacheDir: join(config.dataDir, 'inference', 'gguf'), log: deps.log }))
  return { resolve: (projectId, model) => resolveModel(resolveDeps, projectId, model), engine }
}

// A base model is served from a GGUF too: converted once with the trainer's own GGUF export
// (the one fine-tuned models get, so base and fine-tuned answers compare like for like) and kept
// in the blob store under a key derived from the model's source, so a changed source converts again.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { resolveBaseModel, type BaseModelDeps } from '../models/base-models.ts'

const inFlight = new Map<string, Promise<string>>()

/** Blob key of the base model's F16 GGUF, converting it on first use (once per process at a time). */
export function baseModelGguf(deps: BaseModelDeps & { log: Logger; workDir: string }, id: string): Promise<string> {
  const source = deps.baseModels[id]
  const hash = createHash('sha256').update(JSON.stringify(source)).digest('hex').slice(0, 16)
  const key = `inference/base-gguf/${id.replace(/[^A-Za-z0-9._-]+/g, '_')}/${hash}/model-f16.gguf`
  const running = inFlight.get(key)
  if (running) return running
  const work = convert(deps, id, key).finally(() => inFlight.delete(key))
  inFlight.set(key, work)
  return work
}

async function convert(deps: BaseModelDeps & { log: Logger; workDir: string }, id: string, key: string): Promise<string> {
  if (await deps.blobs.head(key)) return key
  const started = performance.now()
  // The trainer's loaders and exporter, imported only when a conversion is needed.
  const [{ loadModelDir, loadModelFromBlobStore }, { exportGguf }] = await Promise.all([import('../trainer/io/load-model.ts'), import('../trainer/export/gguf.ts')])
  const { source } = await resolveBaseModel(deps, id)
  const dir = await mkdtemp(join(tmpdir(), 'skillet-base-gguf-'))
  try {
    const model = source.kind === 'dir' ? await loadModelDir(source.path) : await loadModelFromBlobStore(deps.blobs, source.prefix, join(deps.workDir, 'base-models', source.prefix.replace(/[^A-Za-z0-9._-]+/g, '_')))
    const path = join(dir, 'model-f16.gguf')
    await exportGguf(model, path, { dtype: 'F16', name: id })
    await deps.blobs.put(key, createReadStream(path))
    deps.log.info({ model: id, key, ms: Math.round(performance.now() - started) }, 'converted a base model to GGUF for inference')
    return key
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

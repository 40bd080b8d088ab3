// llama.cpp loads a model from a local file: a GGUF in the blob store is copied once into a
// local cache folder (written to a temporary name and renamed, so a crash leaves no half file).
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { BlobStore } from '../storage/blob-store.ts'

const inFlight = new Map<string, Promise<string>>()

export function localGguf(blobs: BlobStore, key: string, cacheDir: string): Promise<string> {
  const path = join(cacheDir, key.replace(/[^A-Za-z0-9._-]+/g, '_'))
  const running = inFlight.get(path)
  if (running) return running
  const work = copy(blobs, key, path).finally(() => inFlight.delete(path))
  inFlight.set(path, work)
  return work
}

async function copy(blobs: BlobStore, key: string, path: string): Promise<string> {
  const info = await blobs.head(key)
  if (!info) throw new Error(`GGUF blob missing: ${key}`)
  const local = await stat(path).catch(() => null)
  if (local?.size === info.bytes) return path
  await mkdir(join(path, '..'), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  try {
    await pipeline(await blobs.get(key), createWriteStream(tmp))
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  return path
}

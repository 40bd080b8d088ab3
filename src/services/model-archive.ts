// GET /v1/models/{id}/artifacts/archive: the model's whole folder as one .tar, streamed — each
// artifact is piped from the blob store into its tar entry in turn, never held whole in memory.
// Entries lie under one folder named after the model, as the trainer wrote them (adapter/,
// model/, the GGUF and the Modelfile beside it), so `tar -xf` gives a folder Ollama, llama.cpp
// and PEFT can use as it is.
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import type { BlobStore } from '../storage/blob-store.ts'
import { listArtifacts, type LookupDeps } from '../models/model-lookup.ts'

/** The archive's top folder (and file name): the model id with what file systems dislike replaced. */
export function archiveFolderName(modelId: string): string {
  return modelId.replace(/[^A-Za-z0-9._-]+/g, '-')
}

export async function modelArchive(deps: Pick<LookupDeps, 'db'> & { blobs: BlobStore }, projectId: string, id: string): Promise<{ filename: string; body: Readable }> {
  const artifacts = await listArtifacts(deps, projectId, id) // 404 before any byte is sent
  const folder = archiveFolderName(id)
  const pack = tar.pack()
  const fill = async () => {
    for (const a of artifacts) {
      const entry = pack.entry({ name: `${folder}/${a.name}`, size: a.bytes, mtime: new Date(a.createdAt * 1000), mode: 0o644 })
      await pipeline(await deps.blobs.get(a.blobKey), entry)
    }
    pack.finalize()
  }
  // A blob that cannot be read ends the archive with an error: the client sees a truncated download, never a wrong file.
  fill().catch((err: Error) => pack.destroy(err))
  // tar-stream's streams are streamx ones: a Node Readable over them, for Fastify and its backpressure.
  return { filename: `${folder}.tar`, body: Readable.from(pack) }
}

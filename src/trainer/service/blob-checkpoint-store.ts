// Checkpoints of a service job in the blob store, under {outputPrefix}checkpoints/step-NNNNNNNN/
// (training state directly in it; the checkpoint model's artifacts in its artifacts/ folder).
// A checkpoint counts once the API has registered it (the reporter's POST /checkpoints, sent after
// every file is stored), so the newest complete one is the job state's latest_checkpoint, read
// when the attempt starts: files of a checkpoint interrupted half-way are never loaded.
import type { BlobStore } from '../../storage/blob-store.ts'
import type { CheckpointStore, StoredCheckpoint } from '../train/checkpoint-store.ts'

/** The blob folder of the checkpoint at `step` (`prefix` is the job's checkpoints/ folder). */
export function checkpointFolder(prefix: string, step: number): string {
  return `${prefix}step-${String(step).padStart(8, '0')}/`
}

export class BlobCheckpointStore implements CheckpointStore {
  private readonly blobs: BlobStore
  private readonly prefix: string
  private readonly registered: { step: number; blob_prefix: string } | null

  /** `prefix` ends with '/'; `registered` is the job state's latest_checkpoint. */
  constructor(blobs: BlobStore, prefix: string, registered: { step: number; blob_prefix: string } | null) {
    this.blobs = blobs
    this.prefix = prefix
    this.registered = registered
  }

  async save(step: number, files: Map<string, Uint8Array>): Promise<string> {
    const dir = checkpointFolder(this.prefix, step)
    for (const [name, bytes] of files) await this.blobs.put(`${dir}${name}`, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    return dir
  }

  async latest(): Promise<StoredCheckpoint | null> {
    if (!this.registered) return null
    const found = await this.read(this.registered.step, this.registered.blob_prefix)
    if (!found) throw new Error(`the checkpoint at step ${this.registered.step} has no files under ${this.registered.blob_prefix}`)
    return found
  }

  /** A checkpoint this job saved (the best one, to serve it); null when its files are gone. */
  async load(step: number): Promise<StoredCheckpoint | null> {
    return this.read(step, checkpointFolder(this.prefix, step))
  }

  private async read(step: number, dir: string): Promise<StoredCheckpoint | null> {
    // The training state only: the checkpoint model's artifacts/ folder is not needed to resume.
    const blobs = (await this.blobs.list(dir)).filter((b) => !b.key.slice(dir.length).includes('/'))
    if (blobs.length === 0) return null
    const files = new Map<string, Uint8Array>()
    for (const blob of blobs) files.set(blob.key.slice(dir.length), new Uint8Array(Buffer.concat(await (await this.blobs.get(blob.key)).toArray())))
    return { step, files }
  }
}

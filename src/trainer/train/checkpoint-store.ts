// Where checkpoints go. A checkpoint is a handful of named files (tensors, state JSON); the
// store writes them all-or-nothing and finds the newest complete one. The service supplies a
// blob-store implementation; LocalCheckpointStore keeps them in a directory.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface StoredCheckpoint {
  step: number
  files: Map<string, Uint8Array>
}

export interface CheckpointStore {
  /** Saves a checkpoint atomically; returns where it went. */
  save(step: number, files: Map<string, Uint8Array>): Promise<string>
  /** The newest complete checkpoint, or null. */
  latest(): Promise<StoredCheckpoint | null>
  /** The checkpoint at `step`, or null when it is not (or no longer) stored. */
  load(step: number): Promise<StoredCheckpoint | null>
}

const DIR_PATTERN = /^step-(\d{8})$/

/**
 * dir/step-00000010/{files}. Files are written into a hidden temporary directory which is then
 * renamed into place: a reader (or a resume after kill -9) sees a whole checkpoint or none.
 * Only the newest `keep` checkpoints are kept.
 */
export class LocalCheckpointStore implements CheckpointStore {
  private readonly dir: string
  private readonly keep: number
  constructor(dir: string, opts: { keep?: number } = {}) {
    this.dir = dir
    this.keep = opts.keep ?? 2
  }

  async save(step: number, files: Map<string, Uint8Array>): Promise<string> {
    await mkdir(this.dir, { recursive: true })
    const name = `step-${String(step).padStart(8, '0')}`
    const tmp = join(this.dir, `.${name}.tmp-${process.pid}`)
    const final = join(this.dir, name)
    await rm(tmp, { recursive: true, force: true })
    await mkdir(tmp)
    for (const [file, bytes] of files) await writeFile(join(tmp, file), bytes)
    await rm(final, { recursive: true, force: true })
    await rename(tmp, final)
    await this.prune()
    return final
  }

  private async steps(): Promise<number[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[])
    return entries.flatMap((e) => {
      const m = DIR_PATTERN.exec(e)
      return m ? [Number(m[1])] : []
    }).sort((a, b) => a - b)
  }

  private async prune(): Promise<void> {
    const steps = await this.steps()
    for (const step of steps.slice(0, Math.max(0, steps.length - this.keep))) {
      await rm(join(this.dir, `step-${String(step).padStart(8, '0')}`), { recursive: true, force: true })
    }
  }

  async latest(): Promise<StoredCheckpoint | null> {
    const step = (await this.steps()).at(-1)
    return step === undefined ? null : this.load(step)
  }

  async load(step: number): Promise<StoredCheckpoint | null> {
    if (!(await this.steps()).includes(step)) return null
    const dir = join(this.dir, `step-${String(step).padStart(8, '0')}`)
    const files = new Map<string, Uint8Array>()
    for (const file of await readdir(dir)) files.set(file, new Uint8Array(await readFile(join(dir, file))))
    return { step, files }
  }
}

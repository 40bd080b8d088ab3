// The embedded default: blobs are files under one root folder. A put writes a temp file under
// `<root>/.tmp/`, flushes it to disk and renames it into place; rename within one filesystem is
// atomic, so a reader sees the old blob, the new one, or none, never half a file. Keys cannot
// start a segment with '.', so `.tmp` can never collide with a blob. Unlike S3, one key cannot
// be both a blob and a folder ('a' and 'a/b'): the second put fails. Temp files an interrupted
// write left (a crash, a failed cleanup) are removed by sweepAbandonedWrites, at start and periodically.

import { randomUUID } from 'node:crypto'
import { type FileHandle, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { assertValidKey, assertValidPrefix } from './blob-keys.ts'
import { type BlobInfo, BlobNotFoundError, type BlobStore } from './blob-store.ts'
import { concatBlobs } from './concat-blobs.ts'

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs'
  readonly root: string
  readonly #tmpDir: string

  constructor(opts: { root: string }) {
    this.root = opts.root
    this.#tmpDir = join(opts.root, '.tmp')
  }

  async put(key: string, body: Readable | Buffer, opts: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    assertValidKey(key)
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body
    return { key, bytes: await this.#writeAtomically(key, source, opts.signal) }
  }

  async get(key: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    assertValidKey(key)
    // Opening first turns a missing file into BlobNotFoundError now, not a later stream error.
    const handle = await open(this.#path(key), 'r').catch(ifMissing(null))
    if (!handle) throw new BlobNotFoundError(key)
    if (!(await handle.stat()).isFile()) {
      await handle.close()
      throw new BlobNotFoundError(key)
    }
    return handle.createReadStream({ start: range.start, end: range.end })
  }

  async head(key: string): Promise<BlobInfo | null> {
    assertValidKey(key)
    const stats = await stat(this.#path(key)).catch(ifMissing(null))
    return stats?.isFile() ? { key, bytes: stats.size } : null
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key)
    const removed = await unlink(this.#path(key)).then(() => true, ifMissing(false))
    if (removed) await this.#removeEmptyParents(key)
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix === '') throw new TypeError('deletePrefix needs a non-empty prefix')
    for (const { key } of await this.list(prefix)) await this.delete(key)
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    assertValidPrefix(prefix)
    // Only the folder that holds the prefix's last segment can contain matches.
    const baseDir = join(this.root, ...prefix.split('/').slice(0, -1))
    const entries = await readdir(baseDir, { recursive: true, withFileTypes: true }).catch(ifMissing([]))
    const blobs: BlobInfo[] = []
    for (const entry of entries) {
      if (!entry.isFile()) continue
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/')
      if (!key.startsWith(prefix) || key.split('/').some((s) => s.startsWith('.'))) continue
      const stats = await stat(join(entry.parentPath, entry.name)).catch(ifMissing(null)) // deleted meanwhile
      if (stats) blobs.push({ key, bytes: stats.size })
    }
    return blobs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async compose(key: string, sourceKeys: string[]): Promise<BlobInfo> {
    assertValidKey(key)
    if (sourceKeys.length === 0) throw new TypeError('compose needs at least one source')
    for (const source of sourceKeys) {
      if (!(await this.head(source))) throw new BlobNotFoundError(source)
    }
    const bytes = await this.#writeAtomically(key, concatBlobs((k) => this.get(k), sourceKeys))
    return { key, bytes }
  }

  async presignPut(key: string, _expiresInSeconds: number): Promise<null> {
    assertValidKey(key)
    return null
  }

  /** Writes and removes a probe file, which fails on a missing, full or read-only root. */
  async ping(): Promise<void> {
    await mkdir(this.#tmpDir, { recursive: true })
    const probe = join(this.#tmpDir, `ping-${randomUUID()}`)
    const handle = await open(probe, 'wx')
    await handle.close()
    await unlink(probe)
  }

  async sweepAbandonedWrites(idleMs: number): Promise<number> {
    const cutoff = Date.now() - idleMs
    let removed = 0
    for (const name of await readdir(this.#tmpDir).catch(ifMissing([] as string[]))) {
      const tmp = join(this.#tmpDir, name)
      const stats = await stat(tmp).catch(ifMissing(null))
      // A write in progress keeps touching its temp file; only idle ones are abandoned.
      if (!stats || stats.mtimeMs > cutoff) continue
      await rm(tmp, { recursive: true, force: true })
      removed++
    }
    return removed
  }

  #path(key: string): string {
    return join(this.root, ...key.split('/'))
  }

  /** Streams `source` into a temp file, flushes it, renames it to `key`; returns its size. */
  async #writeAtomically(key: string, source: Readable, signal?: AbortSignal): Promise<number> {
    // An error the source emits while the temp file is being opened stays on the stream
    // (source.errored) for pipeline to report; unheard, it would crash the process.
    source.on('error', ignore)
    try {
      await mkdir(this.#tmpDir, { recursive: true })
      const tmp = join(this.#tmpDir, randomUUID())
      // The file exists before streaming starts, so the cleanup below always finds it.
      const handle = await open(tmp, 'wx')
      return await this.#streamInto(tmp, handle, key, source, signal)
    } finally {
      source.off('error', ignore)
    }
  }

  /** Fills the open temp file from `source` and renames it to `key`; on any failure removes it. */
  async #streamInto(tmp: string, handle: FileHandle, key: string, source: Readable, signal?: AbortSignal): Promise<number> {
    try {
      // flush: fsync before close, so the renamed file is complete even after a crash.
      await pipeline(source, handle.createWriteStream({ flush: true }), { signal })
      const { size } = await stat(tmp)
      await this.#renameInto(tmp, this.#path(key))
      return size
    } catch (err) {
      // A cleanup that fails must not hide why the write failed: the sweep removes the file later.
      await rm(tmp, { force: true }).catch(ignore)
      throw err
    }
  }

  async #renameInto(tmp: string, target: string): Promise<void> {
    await mkdir(dirname(target), { recursive: true })
    // A concurrent delete may prune the fresh, still-empty folder; make it again once.
    await rename(tmp, target).catch(async (err) => {
      if (err?.code !== 'ENOENT') throw err
      await mkdir(dirname(target), { recursive: true })
      await rename(tmp, target)
    })
  }

  /** Removes the folders a deleted key leaves empty, so a deleted job leaves no trace. */
  async #removeEmptyParents(key: string): Promise<void> {
    const segments = key.split('/').slice(0, -1)
    while (segments.length > 0) {
      const removed = await rmdir(join(this.root, ...segments)).then(
        () => true,
        () => false, // not empty, or already gone: either way, stop here
      )
      if (!removed) return
      segments.pop()
    }
  }
}

function ignore(): void {}

/** A promise rejection handler: "no such file" (ENOENT, ENOTDIR) becomes `fallback`, the rest rethrows. */
function ifMissing<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    const code = (err as NodeJS.ErrnoException)?.code
    if (code === 'ENOENT' || code === 'ENOTDIR') return fallback
    throw err
  }
}

// Fetches a model repository from the Hugging Face Hub into the blob store, once. Uses the Hub's
// public HTTP API: GET /api/models/{repo}/revision/{rev}?blobs=true lists the files with their sizes
// (and pins the commit sha), GET /{repo}/resolve/{sha}/{file} downloads one (following redirects to
// the CDN). Only the files a Hugging Face-format loader needs are copied.
//
// Nothing half-written is ever visible under the model's prefix: a file's bytes are first stored as
// numbered parts under a separate prefix (models/hub-partial/…), and composed into the file's key
// only once complete. A download that breaks (a reset connection, a 5xx) resumes from the byte it
// reached with an HTTP Range request, in this process; a fetch that starts again later (another
// attempt of the job, another worker) picks up the parts already stored and resumes after them.
import { createHash } from 'node:crypto'
import { BlobNotFoundError, type BlobStore } from '../storage/blob-store.ts'

export interface HubFetchProgress {
  /** Bytes of the wanted files fetched so far (those already stored included). */
  bytes: number
  /** Bytes of all wanted files, when the Hub said (it does for `?blobs=true`). */
  totalBytes: number | null
}

export interface HubFetchOptions {
  endpoint: string
  token?: string
  repo: string
  revision: string
  blobs: BlobStore
  /** Where the files go; the commit sha is appended: `${prefix}${sha}/`. */
  prefix: string
  fetch?: typeof fetch
  /** Stops the download (the promise rejects with the signal's reason); stored parts are kept for a later resume. */
  signal?: AbortSignal
  onProgress?: (progress: HubFetchProgress) => void
  /** Bytes buffered before a part is stored (default 8 MiB: S3 composes parts of 5 MiB and more server-side). */
  partBytes?: number
  /** Tries per file that make no progress before giving up (default 5). */
  maxTries?: number
  /** Milliseconds before the n-th retry (default 500 ms · 2^(n-1), at most 10 s). */
  retryDelayMs?: (retry: number) => number
}

/** Files worth copying: config, weights (safetensors only), tokenizer and generation settings. */
export function wantedHubFile(name: string): boolean {
  const base = name.split('/').at(-1) ?? name
  return (
    base.endsWith('.safetensors') ||
    base === 'model.safetensors.index.json' ||
    base === 'config.json' ||
    base === 'generation_config.json' ||
    base === 'special_tokens_map.json' ||
    base.startsWith('tokenizer') ||
    base.endsWith('.jinja')
  )
}

export class HubFetchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HubFetchError'
  }
}

interface HubFile {
  name: string
  size: number | null
}

interface RepoInfo {
  sha?: string
  siblings?: { rfilename: string; size?: number; lfs?: { size?: number } }[]
}

/** The part holding bytes [offset, offset + length) of a file: a name that sorts by offset and says its length. */
export function partName(offset: number, length: number): string {
  return `${String(offset).padStart(15, '0')}-${length}`
}

/** The stored parts that continue each other from byte 0, in order (a gap or a stray part ends the run). */
export function contiguousParts(parts: { key: string; bytes: number }[], prefix: string): { keys: string[]; bytes: number } {
  const parsed = parts
    .map((p) => {
      const m = /^(\d+)-(\d+)$/.exec(p.key.slice(prefix.length))
      return m && Number(m[2]) === p.bytes ? { key: p.key, offset: Number(m[1]), length: p.bytes } : null
    })
    .filter((p) => p !== null)
    .sort((a, b) => a.offset - b.offset)
  const keys: string[] = []
  let bytes = 0
  for (const p of parsed) {
    if (p.offset !== bytes || p.length === 0) break
    keys.push(p.key)
    bytes += p.length
  }
  return { keys, bytes }
}

const defaultRetryDelay = (retry: number) => Math.min(10_000, 500 * 2 ** (retry - 1))

function abortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** The first byte a 206 answer carries (from `Content-Range: bytes START-END/TOTAL`), or null. */
function rangeStart(res: Response): number | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '')
  return m ? Number(m[1]) : null
}

export async function fetchHubModel(opts: HubFetchOptions): Promise<{ sha: string; blobPrefix: string; files: string[] }> {
  const get = opts.fetch ?? fetch
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {}
  const base = opts.endpoint.replace(/\/$/, '')
  const infoUrl = `${base}/api/models/${opts.repo}/revision/${encodeURIComponent(opts.revision)}?blobs=true`
  const info = await get(infoUrl, { headers, signal: opts.signal })
  if (!info.ok) throw new HubFetchError(`The Hugging Face Hub answered ${info.status} for ${opts.repo}@${opts.revision}${info.status === 401 || info.status === 403 ? ' (a gated or private repo needs SKILLET_HF_TOKEN)' : ''}.`)
  const body = (await info.json()) as RepoInfo
  const sha = body.sha ?? opts.revision
  const files: HubFile[] = (body.siblings ?? []).filter((s) => wantedHubFile(s.rfilename)).map((s) => ({ name: s.rfilename, size: s.lfs?.size ?? s.size ?? null }))
  if (!files.some((f) => f.name === 'config.json')) throw new HubFetchError(`${opts.repo}@${opts.revision} has no config.json: not a Hugging Face-format model.`)
  const blobPrefix = `${opts.prefix}${sha}/`
  const totalBytes = files.every((f) => f.size !== null) ? files.reduce((n, f) => n + (f.size ?? 0), 0) : null
  let done = 0
  for (const file of files) {
    const url = `${base}/${opts.repo}/resolve/${sha}/${file.name.split('/').map(encodeURIComponent).join('/')}`
    const partsPrefix = `models/hub-partial/${opts.repo}/${sha}/${createHash('sha256').update(file.name).digest('hex').slice(0, 16)}/`
    const before = done
    done += await downloadFile(opts, { url, headers, key: `${blobPrefix}${file.name}`, partsPrefix, file }, (bytes) => opts.onProgress?.({ bytes: before + bytes, totalBytes }))
    opts.onProgress?.({ bytes: done, totalBytes })
  }
  return { sha, blobPrefix, files: files.map((f) => f.name) }
}

interface FileDownload {
  url: string
  headers: Record<string, string>
  key: string
  partsPrefix: string
  file: HubFile
}

/** Downloads one file into `key` (through stored parts, resuming after those already there); returns its size. */
async function downloadFile(opts: HubFetchOptions, d: FileDownload, onBytes: (bytes: number) => void): Promise<number> {
  const existing = await opts.blobs.head(d.key)
  if (existing && (d.file.size === null || existing.bytes === d.file.size)) return existing.bytes
  const get = opts.fetch ?? fetch
  const partBytes = opts.partBytes ?? 8 * 1024 * 1024
  const maxTries = opts.maxTries ?? 5
  const delay = opts.retryDelayMs ?? defaultRetryDelay
  const resumed = contiguousParts(await opts.blobs.list(d.partsPrefix), d.partsPrefix)
  const parts = [...resumed.keys]
  let offset = resumed.bytes
  onBytes(offset)
  let pending: Buffer[] = []
  let pendingBytes = 0
  const flush = async () => {
    if (pendingBytes === 0) return
    const key = `${d.partsPrefix}${partName(offset, pendingBytes)}`
    await opts.blobs.put(key, Buffer.concat(pending, pendingBytes))
    parts.push(key)
    offset += pendingBytes
    pending = []
    pendingBytes = 0
  }
  const restart = async () => {
    await opts.blobs.deletePrefix(d.partsPrefix)
    parts.length = 0
    offset = 0
  }
  let failures = 0
  let lastProblem = ''
  for (;;) {
    if (d.file.size !== null && offset >= d.file.size) break
    const startedAt = offset
    try {
      const res = await get(d.url, { headers: offset > 0 ? { ...d.headers, range: `bytes=${offset}-` } : d.headers, redirect: 'follow', signal: opts.signal })
      if (res.status === 416 && offset > 0) {
        await res.body?.cancel()
        break // nothing after the bytes already stored: the file is complete
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel()
        const problem = `Downloading ${d.file.name} from ${opts.repo} failed with status ${res.status}`
        if (res.status !== 429 && res.status < 500) throw new HubFetchError(`${problem}.`)
        throw new Error(problem)
      }
      if (offset > 0 && (res.status !== 206 || rangeStart(res) !== offset)) {
        // The server ignored the range (or answered another one): start the file over.
        await restart()
      }
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        pendingBytes += chunk.byteLength
        onBytes(offset + pendingBytes)
        if (pendingBytes >= partBytes) await flush()
      }
      await flush()
      if (d.file.size === null || offset >= d.file.size) break
      lastProblem = `the connection closed after ${offset} of ${d.file.size} bytes`
    } catch (err) {
      if (opts.signal?.aborted) {
        // Keep what arrived: a later fetch resumes after it.
        await flush().catch(() => {})
        throw opts.signal.reason
      }
      if (err instanceof HubFetchError) throw err
      await flush()
      lastProblem = (err as Error).message
    }
    failures = offset > startedAt ? 1 : failures + 1
    if (failures >= maxTries) throw new HubFetchError(`Downloading ${d.file.name} from ${opts.repo} failed after ${maxTries} tries without progress (${lastProblem}).`)
    await abortable(delay(failures), opts.signal)
  }
  if (d.file.size !== null && offset !== d.file.size) throw new HubFetchError(`Downloading ${d.file.name} from ${opts.repo} gave ${offset} bytes, not the ${d.file.size} the Hub listed.`)
  if (parts.length === 0) await opts.blobs.put(d.key, Buffer.alloc(0))
  else {
    try {
      await opts.blobs.compose(d.key, parts)
    } catch (err) {
      // Another worker fetching the same file finished first and removed the parts: its file stands.
      const stored = err instanceof BlobNotFoundError ? await opts.blobs.head(d.key) : null
      if (stored?.bytes !== offset) throw err
    }
  }
  await opts.blobs.deletePrefix(d.partsPrefix)
  return offset
}

// Fetches a model repository from the Hugging Face Hub into the blob store, once. Uses the Hub's
// public HTTP API: GET /api/models/{repo}/revision/{rev} lists the files (and pins the commit sha),
// GET /{repo}/resolve/{sha}/{file} downloads one (following redirects to the CDN). Only the files
// a Hugging Face-format loader needs are copied; a partial fetch is never recorded as done.
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { BlobStore } from '../storage/blob-store.ts'

export interface HubFetchOptions {
  endpoint: string
  token?: string
  repo: string
  revision: string
  blobs: BlobStore
  /** Where the files go; the commit sha is appended: `${prefix}${sha}/`. */
  prefix: string
  fetch?: typeof fetch
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

export async function fetchHubModel(opts: HubFetchOptions): Promise<{ sha: string; blobPrefix: string; files: string[] }> {
  const get = opts.fetch ?? fetch
  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {}
  const base = opts.endpoint.replace(/\/$/, '')
  const infoUrl = `${base}/api/models/${opts.repo}/revision/${encodeURIComponent(opts.revision)}`
  const info = await get(infoUrl, { headers })
  if (!info.ok) throw new HubFetchError(`The Hugging Face Hub answered ${info.status} for ${opts.repo}@${opts.revision}${info.status === 401 || info.status === 403 ? ' (a gated or private repo needs SKILLET_HF_TOKEN)' : ''}.`)
  const body = (await info.json()) as { sha?: string; siblings?: { rfilename: string }[] }
  const sha = body.sha ?? opts.revision
  const files = (body.siblings ?? []).map((s) => s.rfilename).filter(wantedHubFile)
  if (!files.includes('config.json')) throw new HubFetchError(`${opts.repo}@${opts.revision} has no config.json: not a Hugging Face-format model.`)
  const blobPrefix = `${opts.prefix}${sha}/`
  for (const file of files) {
    const res = await get(`${base}/${opts.repo}/resolve/${sha}/${file.split('/').map(encodeURIComponent).join('/')}`, { headers, redirect: 'follow' })
    if (!res.ok || !res.body) throw new HubFetchError(`Downloading ${file} from ${opts.repo} failed with status ${res.status}.`)
    await opts.blobs.put(`${blobPrefix}${file}`, Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>))
  }
  return { sha, blobPrefix, files }
}

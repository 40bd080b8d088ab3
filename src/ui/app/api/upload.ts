// Dataset uploads with a real progress bar (XMLHttpRequest reports bytes sent; fetch cannot).
// Small files go in one POST /v1/files; larger ones through the Uploads API in parts, and a failed
// part can be retried without sending again the parts that made it ("Resume").
import type { FileObject } from 'openai/resources/files'
import { API_BASE } from './client.ts'

/** Files above this size go through the Uploads API, in parts of this size. */
export const PART_BYTES = 4 * 1024 * 1024

export interface Progress {
  loaded: number
  total: number
}

function send(apiKey: string, path: string, body: FormData | string, onProgress?: (loaded: number) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `${API_BASE}${path}`)
    xhr.setRequestHeader('authorization', `Bearer ${apiKey}`)
    if (typeof body === 'string') xhr.setRequestHeader('content-type', 'application/json')
    xhr.responseType = 'json'
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded)
    xhr.onload = () => {
      const json = xhr.response as { error?: { message?: string } } | null
      if (xhr.status >= 200 && xhr.status < 300) resolve(json)
      else reject(new Error(json?.error?.message ?? `The server answered ${xhr.status}.`))
    }
    xhr.onerror = () => reject(new Error('The connection failed before the server answered.'))
    xhr.onabort = () => reject(new Error('The upload was stopped.'))
    xhr.send(body)
  })
}

/**
 * One dataset upload. `run()` sends what is left and resolves with the File; after a failure,
 * `run()` again resumes at the first part that did not make it.
 */
export class DatasetUpload {
  readonly file: File
  readonly parted: boolean
  private uploadId: string | null = null
  private readonly partIds: (string | null)[]
  private readonly apiKey: string
  private readonly onProgress: (p: Progress) => void

  constructor(apiKey: string, file: File, onProgress: (p: Progress) => void) {
    this.apiKey = apiKey
    this.file = file
    this.onProgress = onProgress
    this.parted = file.size > PART_BYTES
    this.partIds = this.parted ? new Array(Math.ceil(file.size / PART_BYTES)).fill(null) : []
  }

  /** Parts already stored by the server. */
  get partsDone(): number {
    return this.partIds.filter((p) => p !== null).length
  }

  get partCount(): number {
    return this.partIds.length
  }

  async run(): Promise<FileObject> {
    const total = this.file.size
    if (!this.parted) {
      const form = new FormData()
      form.append('purpose', 'fine-tune')
      form.append('file', this.file, this.file.name)
      const done = (await send(this.apiKey, '/files', form, (loaded) => this.onProgress({ loaded: Math.min(loaded, total), total }))) as FileObject
      this.onProgress({ loaded: total, total })
      return done
    }
    if (!this.uploadId) {
      const body = JSON.stringify({ filename: this.file.name, purpose: 'fine-tune', bytes: total, mime_type: 'text/jsonl' })
      this.uploadId = ((await send(this.apiKey, '/uploads', body)) as { id: string }).id
    }
    for (let i = 0; i < this.partIds.length; i++) {
      if (this.partIds[i]) continue
      const start = i * PART_BYTES
      const chunk = this.file.slice(start, Math.min(start + PART_BYTES, total))
      const form = new FormData()
      form.append('data', chunk, `part-${i}`)
      const before = this.partIds.reduce((sum, id, j) => sum + (id ? Math.min(PART_BYTES, total - j * PART_BYTES) : 0), 0)
      const part = (await send(this.apiKey, `/uploads/${this.uploadId}/parts`, form, (loaded) => this.onProgress({ loaded: Math.min(before + loaded, total), total }))) as { id: string }
      this.partIds[i] = part.id
      this.onProgress({ loaded: before + chunk.size, total })
    }
    const completed = (await send(this.apiKey, `/uploads/${this.uploadId}/complete`, JSON.stringify({ part_ids: this.partIds }))) as { file: FileObject }
    return completed.file
  }
}

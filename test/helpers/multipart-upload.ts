import http from 'node:http'
import type { Readable } from 'node:stream'

/**
 * POST /v1/files with a multipart body streamed from `source` (exactly `size` bytes), written with
 * backpressure so the client never buffers the file. `beforeLastChunk` runs just before the final chunk.
 */
export function postFileStream(
  baseURL: string,
  apiKey: string,
  source: Readable,
  size: number,
  opts: { purpose?: string; filename?: string; beforeLastChunk?: () => Promise<void> } = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(`${baseURL}/v1/files`)
  const boundary = 'skillet-test-boundary'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n${opts.purpose ?? 'user_data'}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${opts.filename ?? 'big.bin'}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length },
      },
      (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    ;(async () => {
      req.write(head)
      let sent = 0
      for await (const chunk of source) {
        const buf = chunk as Buffer
        if (sent + buf.length >= size && opts.beforeLastChunk) await opts.beforeLastChunk()
        if (!req.write(buf)) await new Promise((r) => req.once('drain', r))
        sent += buf.length
      }
      req.end(tail)
    })().catch(reject)
  })
}

/** `size` bytes of 'x' in chunks of `chunk` bytes. */
export async function* filler(size: number, chunk = 1024 * 1024): AsyncGenerator<Buffer> {
  const block = Buffer.alloc(chunk, 120)
  for (let sent = 0; sent < size; sent += chunk) yield size - sent >= chunk ? block : block.subarray(0, size - sent)
}

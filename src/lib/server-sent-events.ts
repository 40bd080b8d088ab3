// Server-Sent Events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]\n\n` at
// the end. Writes respect backpressure; a closed connection makes write() resolve false.
import type { ServerResponse } from 'node:http'

export class SseWriter {
  private readonly res: ServerResponse

  constructor(res: ServerResponse, headers: Record<string, string>) {
    this.res = res
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.flushHeaders()
  }

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded
  }

  async send(data: unknown): Promise<boolean> {
    return this.write(`data: ${JSON.stringify(data)}\n\n`)
  }

  async done(): Promise<void> {
    await this.write('data: [DONE]\n\n')
    this.res.end()
  }

  private async write(text: string): Promise<boolean> {
    if (this.closed) return false
    if (this.res.write(text)) return true
    await new Promise<void>((resolve) => {
      const finish = () => {
        this.res.off('drain', finish)
        this.res.off('close', finish)
        resolve()
      }
      this.res.once('drain', finish)
      this.res.once('close', finish)
    })
    return !this.closed
  }
}

// Reads a Server-Sent Events body (an upstream engine's stream) as the JSON of its `data:` lines,
// ending at `data: [DONE]` or the end of the body.
export async function* sseData(body: ReadableStream<Uint8Array>, signal: AbortSignal): AsyncGenerator<unknown> {
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = body.getReader()
  const cancel = () => void reader.cancel().catch(() => {})
  signal.addEventListener('abort', cancel, { once: true })
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n')
      let end: number
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n')
        if (data === '') continue
        if (data === '[DONE]') return
        yield JSON.parse(data)
      }
    }
  } finally {
    signal.removeEventListener('abort', cancel)
    cancel()
  }
}

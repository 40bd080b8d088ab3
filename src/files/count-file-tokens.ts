// Streams a validated fine-tune file through a TokenCounter (the trainer's encoding, with the base
// model's tokenizer and chat template), line by line in bounded memory. Tokenizing is synchronous
// work: the loop yields to the event loop every few milliseconds, so a large file never stalls the
// process it runs in (the API's, in the embedded mode).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { TokenCount, TokenCounter } from '../trainer/run/token-count.ts'
import { LineSplitter } from './validation/line-splitter.ts'
import { DEFAULT_MAX_LINE_BYTES } from './validation/validate-jsonl.ts'

/** A line the tokenizer or the chat template could not encode (the trainer could not either). */
export class LineEncodingError extends Error {
  readonly line: number
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`)
    this.name = 'LineEncodingError'
    this.line = line
  }
}

const SLICE_MS = 10

export async function countFileTokens(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, counter: TokenCounter, opts: { maxLineBytes?: number; signal?: AbortSignal } = {}): Promise<TokenCount> {
  let failure: LineEncodingError | null = null
  const splitter = new LineSplitter({
    line(text, lineNumber) {
      if (failure || text.trim() === '') return
      try {
        counter.add(JSON.parse(text) as Record<string, unknown>)
      } catch (err) {
        failure = new LineEncodingError(lineNumber, (err as Error).message)
      }
    },
    // A validated file has neither; should it change under us, the line is skipped as the trainer's parse would fail it.
    invalidUtf8: (lineNumber) => (failure ??= new LineEncodingError(lineNumber, 'invalid UTF-8')),
    oversized: (lineNumber) => (failure ??= new LineEncodingError(lineNumber, 'line over the length limit')),
  }, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)
  let since = performance.now()
  for await (const chunk of source) {
    opts.signal?.throwIfAborted()
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if (failure) throw failure
    if (performance.now() - since > SLICE_MS) {
      await yieldToEventLoop()
      since = performance.now()
    }
  }
  splitter.end()
  if (failure) throw failure
  return counter.result()
}

// Validates a fine-tuning JSONL file as it streams past, in bounded memory:
// bytes become lines (line-splitter.ts), each line is parsed with JSON.parse
// and checked as one example (example-rules.ts), and the outcome is folded
// into a DatasetReport. Nothing but the current line is kept.
//
// File-level decisions, all as strict as OpenAI's own validation:
// - a UTF-8 byte order mark is an error: OpenAI's parser rejects line 1 of
//   such files, so we say why instead of failing on "invalid JSON".
// - blank lines are errors, wherever they are: every line must be one JSON
//   object. (A final newline at the end of the file is not a blank line.)
// - Windows line endings (\r\n) are accepted.
// - a JSON array, or pretty-printed JSON, is recognised on line 1 and reported
//   once; the rest of the file is then only counted, not checked, since every
//   later line would repeat the same error.
// - the first valid example fixes the file's format; examples in another
//   format are errors, because a job trains with one method on one format.

import type { Readable } from 'node:stream'
import { checkExample, type DatasetFormat } from './example-rules.ts'
import type { ExampleTally } from './message-rules.ts'
import { LineSplitter, type LineSink } from './line-splitter.ts'
import { storableText } from '../../lib/nul-character.ts'

export interface DatasetError {
  /** 1-based line number; 0 for a problem with the file as a whole. */
  line: number
  message: string
}

export interface DatasetStats {
  bytes: number
  lines: number
  /** Characters of trainable text per valid example (see ExampleTally). */
  minChars: number
  maxChars: number
  meanChars: number
  /** Rough token estimate, ceil(chars / 4) per example, summed. */
  estimatedTokens: number
  maxEstimatedTokens: number
  assistantMessages: number
  examplesWithTools: number
}

export interface DatasetReport {
  ok: boolean
  /** Format of the first valid example; null when there is none. */
  format: DatasetFormat | null
  /** Number of valid examples. */
  examples: number
  /** The first `maxErrors` errors, in file order. */
  errors: DatasetError[]
  errorCount: number
  stats: DatasetStats
}

export interface ValidateOptions {
  /** Longest accepted line in bytes (default 10 MiB). */
  maxLineBytes?: number
  /** How many errors the report lists (all are counted). Default 10. */
  maxErrors?: number
}

export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024
export const DEFAULT_MAX_ERRORS = 10

export type JsonlSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> | Readable

export async function validateFineTuneJsonl(source: JsonlSource, opts: ValidateOptions = {}): Promise<DatasetReport> {
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  const builder = new ReportBuilder(opts.maxErrors ?? DEFAULT_MAX_ERRORS, maxLineBytes)
  const splitter = new LineSplitter(builder, maxLineBytes)
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    splitter.push(toBuffer(chunk))
  }
  splitter.end()
  return builder.finish(splitter.bytes, splitter.lines)
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  if (Buffer.isBuffer(chunk)) return chunk
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

const BYTE_ORDER_MARK = 0xfeff
const OPEN_BRACKET = 0x5b
const JSON_ARRAY_MESSAGE = 'the file is a JSON array, expected one JSON object per line (JSONL)'
const MAX_MESSAGE_CHARS = 300

class ReportBuilder implements LineSink {
  readonly #maxErrors: number
  readonly #maxLineBytes: number
  #format: DatasetFormat | null = null
  #formatLine = 0
  #examples = 0
  #errors: DatasetError[] = []
  #errorCount = 0
  // Once the file is known not to be JSONL at all, later lines are skipped.
  #notJsonl = false
  #minChars = Infinity
  #maxChars = 0
  #totalChars = 0
  #estimatedTokens = 0
  #assistantMessages = 0
  #examplesWithTools = 0
  // Reused for every example (checkExample zeroes it).
  readonly #tally: ExampleTally = { chars: 0, assistantMessages: 0, usesTools: false }

  constructor(maxErrors: number, maxLineBytes: number) {
    this.#maxErrors = maxErrors
    this.#maxLineBytes = maxLineBytes
  }

  invalidUtf8(lineNumber: number): void {
    if (!this.#notJsonl) this.#error(lineNumber, 'invalid UTF-8')
  }

  oversized(lineNumber: number, bytes: number, firstByte: number): void {
    if (this.#notJsonl) return
    // A whole dataset saved as one JSON array is one very long first line.
    if (lineNumber === 1 && firstByte === OPEN_BRACKET) {
      this.#rejectWholeFile(JSON_ARRAY_MESSAGE)
      return
    }
    this.#error(lineNumber, `line is ${bytes} bytes, over the limit of ${this.#maxLineBytes} bytes`)
  }

  line(text: string, lineNumber: number): void {
    if (this.#notJsonl) return
    if (lineNumber === 1 && text.charCodeAt(0) === BYTE_ORDER_MARK) {
      this.#error(1, 'file starts with a UTF-8 byte order mark (BOM); save it without BOM')
      text = text.slice(1)
    }
    if (isBlank(text)) {
      this.#error(lineNumber, 'blank line; every line must be one JSON object')
      return
    }
    if (lineNumber === 1 && this.#rejectsAsNotJsonl(text)) return
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      this.#error(lineNumber, `invalid JSON: ${describeJsonError(error)}`)
      return
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.#error(lineNumber, `expected a JSON object, got ${describeJsonValue(value)}`)
      return
    }
    this.#example(value as Record<string, unknown>, lineNumber)
  }

  #example(value: Record<string, unknown>, lineNumber: number): void {
    const tally = this.#tally
    const check = checkExample(value, tally)
    if (this.#format !== null && check.format !== null && check.format !== this.#format) {
      this.#error(
        lineNumber,
        `example is in ${check.format} format, but the file is in ${this.#format} format ` +
          `(from line ${this.#formatLine}); use one format per file`,
      )
      return
    }
    if (!check.ok) {
      this.#error(lineNumber, check.message)
      return
    }
    if (this.#format === null) {
      this.#format = check.format
      this.#formatLine = lineNumber
    }
    this.#examples++
    const { chars, assistantMessages, usesTools } = tally
    if (chars < this.#minChars) this.#minChars = chars
    if (chars > this.#maxChars) this.#maxChars = chars
    this.#totalChars += chars
    this.#estimatedTokens += Math.ceil(chars / 4)
    this.#assistantMessages += assistantMessages
    if (usesTools) this.#examplesWithTools++
  }

  // A JSON array or a pretty-printed object shows on line 1; naming it there
  // beats one "invalid JSON" per line for the rest of the file.
  #rejectsAsNotJsonl(text: string): boolean {
    const first = text.trimStart()
    let message: string | undefined
    if (first.startsWith('[')) {
      message = JSON_ARRAY_MESSAGE
    } else if (first.trimEnd() === '{') {
      message = 'the file is pretty-printed JSON, expected one JSON object per line (JSONL)'
    }
    if (message === undefined) return false
    this.#rejectWholeFile(message)
    return true
  }

  #rejectWholeFile(message: string): void {
    this.#error(1, message)
    this.#notJsonl = true
  }

  #error(line: number, message: string): void {
    this.#errorCount++
    if (this.#errors.length < this.#maxErrors) {
      // Messages quote the user's data: control characters (NUL above all, which Postgres cannot store) are escaped.
      const safe = storableText(message)
      const clipped = safe.length > MAX_MESSAGE_CHARS ? `${safe.slice(0, MAX_MESSAGE_CHARS)}…` : safe
      this.#errors.push({ line, message: clipped })
    }
  }

  finish(bytes: number, lines: number): DatasetReport {
    if (this.#examples === 0 && this.#errorCount === 0) {
      this.#error(0, bytes === 0 ? 'file is empty' : 'file contains no examples')
    }
    const examples = this.#examples
    return {
      ok: this.#errorCount === 0,
      format: this.#format,
      examples,
      errors: this.#errors,
      errorCount: this.#errorCount,
      stats: {
        bytes,
        lines,
        minChars: examples === 0 ? 0 : this.#minChars,
        maxChars: this.#maxChars,
        meanChars: examples === 0 ? 0 : this.#totalChars / examples,
        estimatedTokens: this.#estimatedTokens,
        maxEstimatedTokens: Math.ceil(this.#maxChars / 4),
        assistantMessages: this.#assistantMessages,
        examplesWithTools: this.#examplesWithTools,
      },
    }
  }
}

// Blank means empty or only spaces and tabs. Real lines start with '{', so
// the loop almost always stops at the first character.
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code !== 32 && code !== 9) return false
  }
  return true
}

// V8 says "... in JSON at position 7 (line 1 column 8)"; a line is one line,
// so only the column is worth keeping.
function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const match = / in JSON at position \d+ \(line \d+ column (\d+)\)/.exec(message)
  if (match === null) return message
  return `${message.slice(0, match.index)} at column ${match[1]}`
}

function describeJsonValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

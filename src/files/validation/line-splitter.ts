// Turns a stream of byte chunks into lines of text, in bounded memory.
//
// Only the current, unfinished line is ever buffered, and a line longer than
// `maxLineBytes` stops being buffered the moment it crosses the limit: we keep
// counting its bytes until its newline so the report can say how long it was.
//
// Speed matters here (a dataset can be gigabytes), so the common case works
// on whole chunks: the complete lines of a chunk are decoded with one
// `toString` call (which also tells whether they were valid UTF-8, see
// #emitBlock), then cut into lines on the decoded string. Only when that block
// contains invalid UTF-8 do we fall back to checking line by line, to name the
// offending line.

import { isUtf8 } from 'node:buffer'

/** Receives what the splitter finds, in file order. */
export interface LineSink {
  /** A complete, valid UTF-8 line without its `\n` (or `\r\n`). */
  line(text: string, lineNumber: number): void
  invalidUtf8(lineNumber: number): void
  /**
   * The line was not buffered; `bytes` is its full length without the
   * newline and `firstByte` its first byte, enough to recognise a JSON array.
   */
  oversized(lineNumber: number, bytes: number, firstByte: number): void
}

const NEWLINE = 10
const CARRIAGE_RETURN = 13
const REPLACEMENT_CHARACTER = '\uFFFD'

export class LineSplitter {
  readonly #sink: LineSink
  readonly #maxLineBytes: number
  #bytes = 0
  #lines = 0
  // The unfinished line carried over from earlier chunks.
  #pending: Buffer[] = []
  #pendingBytes = 0
  #pendingFirstByte = -1
  #pendingTooLong = false

  constructor(sink: LineSink, maxLineBytes: number) {
    this.#sink = sink
    this.#maxLineBytes = maxLineBytes
  }

  /** Bytes pushed so far. */
  get bytes(): number {
    return this.#bytes
  }

  /** Lines emitted so far (a final newline does not start another line). */
  get lines(): number {
    return this.#lines
  }

  push(chunk: Buffer): void {
    this.#bytes += chunk.length
    let start = 0
    if (this.#pendingBytes > 0) {
      const firstNewline = chunk.indexOf(NEWLINE)
      if (firstNewline === -1) {
        this.#extendPending(chunk)
        return
      }
      this.#extendPending(chunk.subarray(0, firstNewline))
      this.#finishPending()
      start = firstNewline + 1
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE)
    if (lastNewline >= start) {
      this.#emitBlock(chunk, start, lastNewline)
      start = lastNewline + 1
    }
    if (start < chunk.length) this.#extendPending(chunk.subarray(start))
  }

  /** Flushes a last line that has no trailing newline. */
  end(): void {
    if (this.#pendingBytes > 0) this.#finishPending()
  }

  #extendPending(piece: Buffer): void {
    if (this.#pendingBytes === 0 && piece.length > 0) this.#pendingFirstByte = piece[0]
    this.#pendingBytes += piece.length
    if (this.#pendingTooLong) return
    if (this.#pendingBytes > this.#maxLineBytes) {
      this.#pendingTooLong = true
      this.#pending = []
      return
    }
    // Copied because a source may reuse its chunk buffer for the next read.
    this.#pending.push(Buffer.from(piece))
  }

  #finishPending(): void {
    if (this.#pendingTooLong) {
      this.#sink.oversized(++this.#lines, this.#pendingBytes, this.#pendingFirstByte)
    } else {
      const line = Buffer.concat(this.#pending, this.#pendingBytes)
      this.#emitBlock(line, 0, line.length)
    }
    this.#pending = []
    this.#pendingBytes = 0
    this.#pendingTooLong = false
  }

  // Emits the lines of buf[start, end): newline-separated, `end` being the end
  // of the last line (a newline position or the end of a carried-over line).
  #emitBlock(buf: Buffer, start: number, end: number): void {
    const text = buf.toString('utf8', start, end)
    // Decoding turns every invalid sequence into U+FFFD, so a text without one
    // was valid UTF-8. Only a text holding one (the character itself is valid
    // too) needs the exact check; on a one-byte string the search is free.
    if (text.indexOf(REPLACEMENT_CHARACTER) !== -1 && !isUtf8(buf.subarray(start, end))) {
      this.#emitLinesOneByOne(buf, start, end)
      return
    }
    if (end - start <= this.#maxLineBytes) {
      // No line of a block this short can be over the limit, so the byte
      // positions are not needed: cut the text alone (the common case).
      this.#emitShortLines(text)
      return
    }
    // Newlines are single bytes and single UTF-16 units, so walking the bytes
    // and the text side by side keeps both positions on the same line.
    let bytePos = start
    let charPos = 0
    for (;;) {
      let byteEnd = buf.indexOf(NEWLINE, bytePos)
      let charEnd = text.indexOf('\n', charPos)
      if (byteEnd === -1 || byteEnd > end) byteEnd = end
      if (charEnd === -1) charEnd = text.length
      this.#emitLine(text, charPos, charEnd, byteEnd - bytePos)
      if (byteEnd >= end) return
      bytePos = byteEnd + 1
      charPos = charEnd + 1
    }
  }

  #emitShortLines(text: string): void {
    const sink = this.#sink
    let from = 0
    for (;;) {
      let to = text.indexOf('\n', from)
      const last = to === -1
      if (last) to = text.length
      const next = to + 1
      if (to > from && text.charCodeAt(to - 1) === CARRIAGE_RETURN) to--
      sink.line(from === 0 && to === text.length ? text : text.slice(from, to), ++this.#lines)
      if (last) return
      from = next
    }
  }

  #emitLinesOneByOne(buf: Buffer, start: number, end: number): void {
    let pos = start
    for (;;) {
      let lineEnd = buf.indexOf(NEWLINE, pos)
      if (lineEnd === -1 || lineEnd > end) lineEnd = end
      const bytes = lineEnd - pos
      // Length is judged before encoding, as it is for lines carried over.
      if (bytes > this.#maxLineBytes) {
        this.#sink.oversized(++this.#lines, bytes, buf[pos])
      } else if (isUtf8(buf.subarray(pos, lineEnd))) {
        const text = buf.toString('utf8', pos, lineEnd)
        this.#emitLine(text, 0, text.length, bytes)
      } else {
        this.#sink.invalidUtf8(++this.#lines)
      }
      if (lineEnd >= end) return
      pos = lineEnd + 1
    }
  }

  #emitLine(text: string, from: number, to: number, bytes: number): void {
    const lineNumber = ++this.#lines
    // A line inside one huge chunk can exceed the limit too; it is already in
    // memory (the caller handed it to us), but it is still refused.
    if (bytes > this.#maxLineBytes) {
      this.#sink.oversized(lineNumber, bytes, text.charCodeAt(from))
      return
    }
    if (to > from && text.charCodeAt(to - 1) === CARRIAGE_RETURN) to--
    this.#sink.line(from === 0 && to === text.length ? text : text.slice(from, to), lineNumber)
  }
}

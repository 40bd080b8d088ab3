// Whether a string is JSON text, mostly without building the value.
//
// Every tool call of a dataset carries its arguments as a string that must be
// JSON. These are small objects, and JSON.parse spends most of its time on them
// creating objects and interning keys, only for the result to be thrown away.
// The recogniser below walks the text instead (RFC 8259 grammar) and only ever
// answers "surely JSON": whatever it does not accept, including nesting deeper
// than it follows, goes to JSON.parse, which stays the judge. So it can speed
// up the answer but never change it, provided it accepts nothing JSON.parse
// refuses (test/files/validation-json-text.test.ts checks that).

export function isJsonText(text: string): boolean {
  if (recognisesJson(text)) return true
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** True only when `text` is JSON text; false when it is not, or is too deep to follow. */
export function recognisesJson(text: string): boolean {
  const end = skipValue(text, skipSpace(text, 0), 0)
  return end !== -1 && skipSpace(text, end) === text.length
}

const MAX_DEPTH = 64

const TAB = 0x09
const LINE_FEED = 0x0a
const CARRIAGE_RETURN = 0x0d
const SPACE = 0x20
const QUOTE = 0x22
const PLUS = 0x2b
const COMMA = 0x2c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const COLON = 0x3a
const UPPER_E = 0x45
const OPEN_BRACKET = 0x5b
const BACKSLASH = 0x5c
const CLOSE_BRACKET = 0x5d
const LOWER_E = 0x65
const LOWER_U = 0x75
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

// Each skip* function takes the position where its part starts and returns
// the position just after it, or -1. Reading past the end gives NaN, which
// matches no character, so running out of text is -1 like any other mismatch.

function skipSpace(text: string, pos: number): number {
  for (; pos < text.length; pos++) {
    const c = text.charCodeAt(pos)
    if (c !== SPACE && c !== LINE_FEED && c !== CARRIAGE_RETURN && c !== TAB) break
  }
  return pos
}

function skipValue(text: string, pos: number, depth: number): number {
  const c = text.charCodeAt(pos)
  if (c === QUOTE) return skipString(text, pos)
  if (c === OPEN_BRACE) return skipObject(text, pos, depth + 1)
  if (c === OPEN_BRACKET) return skipArray(text, pos, depth + 1)
  if (c === MINUS || isDigit(c)) return skipNumber(text, pos)
  if (text.startsWith('true', pos) || text.startsWith('null', pos)) return pos + 4
  if (text.startsWith('false', pos)) return pos + 5
  return -1
}

function skipObject(text: string, pos: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1
  pos = skipSpace(text, pos + 1)
  if (text.charCodeAt(pos) === CLOSE_BRACE) return pos + 1
  for (;;) {
    if (text.charCodeAt(pos) !== QUOTE) return -1
    pos = skipString(text, pos)
    if (pos === -1) return -1
    pos = skipSpace(text, pos)
    if (text.charCodeAt(pos) !== COLON) return -1
    pos = skipValue(text, skipSpace(text, pos + 1), depth)
    if (pos === -1) return -1
    pos = skipSpace(text, pos)
    const c = text.charCodeAt(pos)
    if (c === CLOSE_BRACE) return pos + 1
    if (c !== COMMA) return -1
    pos = skipSpace(text, pos + 1)
  }
}

function skipArray(text: string, pos: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1
  pos = skipSpace(text, pos + 1)
  if (text.charCodeAt(pos) === CLOSE_BRACKET) return pos + 1
  for (;;) {
    pos = skipValue(text, pos, depth)
    if (pos === -1) return -1
    pos = skipSpace(text, pos)
    const c = text.charCodeAt(pos)
    if (c === CLOSE_BRACKET) return pos + 1
    if (c !== COMMA) return -1
    pos = skipSpace(text, pos + 1)
  }
}

// A string: no raw control characters; escapes \" \\ \/ \b \f \n \r \t \uXXXX.
function skipString(text: string, pos: number): number {
  for (let i = pos + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) return i + 1
    if (c < SPACE) return -1
    if (c === BACKSLASH) {
      const escaped = text.charCodeAt(++i)
      if (escaped === LOWER_U) {
        if (!isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) return -1
        if (!isHexDigit(text.charCodeAt(i + 3)) || !isHexDigit(text.charCodeAt(i + 4))) return -1
        i += 4
      } else if (!isSingleCharacterEscape(escaped)) {
        return -1
      }
    }
  }
  return -1
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
function skipNumber(text: string, pos: number): number {
  if (text.charCodeAt(pos) === MINUS) pos++
  const first = text.charCodeAt(pos)
  if (first === ZERO) pos++
  else if (isDigit(first)) pos = skipDigits(text, pos)
  else return -1
  if (text.charCodeAt(pos) === DOT) {
    const after = skipDigits(text, pos + 1)
    if (after === pos + 1) return -1
    pos = after
  }
  const e = text.charCodeAt(pos)
  if (e === LOWER_E || e === UPPER_E) {
    pos++
    const sign = text.charCodeAt(pos)
    if (sign === PLUS || sign === MINUS) pos++
    const after = skipDigits(text, pos)
    if (after === pos) return -1
    pos = after
  }
  return pos
}

function skipDigits(text: string, pos: number): number {
  while (isDigit(text.charCodeAt(pos))) pos++
  return pos
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

function isSingleCharacterEscape(c: number): boolean {
  // " \ / b f n r t
  return c === QUOTE || c === BACKSLASH || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74
}

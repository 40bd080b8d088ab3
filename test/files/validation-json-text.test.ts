// The JSON recogniser used for tool-call arguments gives JSON.parse's answer,
// and answers most arguments without calling it.

import t from 'tap'
import { isJsonText, recognisesJson } from '../../src/files/validation/json-text.ts'
import { seededRandom } from '../../src/trainer/tiny/seeded-random.ts'

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

// Test names show the text in ASCII: a raw line separator would break the TAP stream.
function shown(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9)
t.comment(`FUZZ_SEED=${seed}`)
const { next: random, int: below } = seededRandom(seed)

const VALID = [
  '{"query":"garlic"}',
  '{}',
  '[]',
  ' { "a" : [ 1 , -2.5e+3 , 0 , 0.5 , 1E9 , true , false , null ] } \r\n\t',
  '"a string"',
  '"escapes \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"',
  '-0',
  '123',
  '1e400',
  '{"a":{"b":{"c":[[[{}]]]}}}',
  '{"dup":1,"dup":2,"__proto__":{}}',
  '"crème brûlée, 日本語, \u2028"',
]

const INVALID = [
  '',
  ' ',
  '{',
  '}',
  '{"a"}',
  '{"a":}',
  '{"a":1,}',
  '[1,]',
  '[,1]',
  '{a:1}',
  "{'a':1}",
  '01',
  '-',
  '1.',
  '.5',
  '1e',
  '1e+',
  '+1',
  'tru',
  'truex',
  'nul',
  'NaN',
  'Infinity',
  '"unterminated',
  '"bad escape \\x"',
  '"short unicode \\u12"',
  '"raw\ttab"',
  '"raw\nnewline"',
  '\u00a0{}',
  '\ufeff{}',
  '{} {}',
  '{"a":1}x',
  'undefined',
]

t.test('known valid and invalid texts', async (t) => {
  for (const text of VALID) {
    t.equal(isJsonText(text), true, `valid: ${shown(text)}`)
    t.equal(recognisesJson(text), true, `recognised without JSON.parse: ${shown(text)}`)
  }
  for (const text of INVALID) {
    t.equal(parses(text), false, `JSON.parse refuses: ${shown(text)}`)
    t.equal(isJsonText(text), false, `invalid: ${shown(text)}`)
  }
})

t.test('nesting deeper than the recogniser follows is left to JSON.parse', async (t) => {
  const deep = '['.repeat(10000) + ']'.repeat(10000)
  t.equal(recognisesJson(deep), false)
  t.equal(isJsonText(deep), true)
  t.equal(isJsonText('['.repeat(10000) + ']'.repeat(9999)), false)
})

// Characters that matter to the grammar, plus anything at all.
const ALPHABET = ['{', '}', '[', ']', '"', ':', ',', ' ', '\\', 'u', '0', '1', '9', '-', '+', '.', 'e', 'E', 'a', 'f', 'true', 'false', 'null', '\n', '\t', '\u0001', 'é', '\ud800']

function randomText(): string {
  let text = ''
  for (let n = below(24); n > 0; n--) text += random() < 0.9 ? ALPHABET[below(ALPHABET.length)] : String.fromCharCode(below(0x10000))
  return text
}

function randomValue(depth: number): unknown {
  const kind = below(depth > 3 ? 4 : 6)
  if (kind === 0) return random() < 0.5 ? null : random() < 0.5
  if (kind === 1) return (random() - 0.5) * 10 ** below(30)
  if (kind === 2 || kind === 3) return randomText()
  if (kind === 4) return Array.from({ length: below(4) }, () => randomValue(depth + 1))
  return Object.fromEntries(Array.from({ length: below(4) }, () => [randomText(), randomValue(depth + 1)]))
}

t.test('random texts: the same answer as JSON.parse', async (t) => {
  let mismatches = 0
  let valid = 0
  for (let i = 0; i < 20000; i++) {
    const text = randomText()
    const expected = parses(text)
    if (expected) valid++
    if (isJsonText(text) !== expected || (recognisesJson(text) && !expected)) {
      mismatches++
      t.fail(`answer differs from JSON.parse for ${shown(text)}`)
    }
  }
  t.equal(mismatches, 0)
  t.ok(valid > 0, `some random texts are valid JSON (${valid})`)
})

t.test('serialised values, whole and cut or edited: the same answer as JSON.parse', async (t) => {
  let mismatches = 0
  for (let i = 0; i < 5000; i++) {
    const json = JSON.stringify(randomValue(0), null, random() < 0.3 ? 1 : undefined)
    if (!recognisesJson(json)) {
      mismatches++
      t.fail(`serialised value not recognised: ${shown(json)}`)
    }
    const at = below(json.length + 1)
    const edits = [json.slice(0, at), json.slice(0, at) + json.slice(at + 1), json.slice(0, at) + ALPHABET[below(ALPHABET.length)] + json.slice(at)]
    for (const text of edits) {
      if (isJsonText(text) !== parses(text) || (recognisesJson(text) && !parses(text))) {
        mismatches++
        t.fail(`answer differs from JSON.parse for ${shown(text)}`)
      }
    }
  }
  t.equal(mismatches, 0)
})

// Builds a SentencePiece-style BPE tokenizer.json like Llama-2's (as transformers converts a
// tokenizer.model): spaces become "▁" and one is prepended, no pre-tokenizer, <unk> <s> </s> at
// ids 0–2, the 256 byte-fallback tokens <0x00>…<0xFF> at 3–258, then the corpus's characters,
// then merged pieces in the order they were learned. The merges are derived from the vocabulary
// as transformers' SentencePieceExtractor does (every split of a piece into two pieces, ordered by
// the piece's rank), so BPE over the merges and SentencePiece's highest-score-first merging over
// the pieces (llama.cpp's "llama" tokenizer, scores -id) segment text alike.

import { applyMerge, mostFrequentPair } from './byte-level-bpe.ts'

export const SPM_SPACE = '\u2581'
export const SPM_SPECIALS = ['<unk>', '<s>', '</s>'] as const
const BYTE_TOKENS = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)

export interface SentencePieceVocab {
  /** Pieces by id, specials and bytes first. */
  pieces: string[]
  merges: [string, string][]
}

/** The text as SentencePiece sees it: a leading ▁ and every space a ▁. */
const normalise = (text: string) => SPM_SPACE + text.replaceAll(' ', SPM_SPACE)

/**
 * Learns merges over the corpus's "▁word" units until there are `size` pieces. Ties between
 * equally frequent pairs break on the pair's text, so the result depends only on the corpus.
 */
export function trainSentencePieceBpe(corpus: string, size: number): SentencePieceVocab {
  const pieces: string[] = [...SPM_SPECIALS, ...BYTE_TOKENS]
  const counts = new Map<string, number>()
  for (const line of corpus.split('\n')) {
    for (const word of normalise(line).split(new RegExp(`(?=${SPM_SPACE})`, 'u'))) if (word) counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  // Characters by frequency (then code point): the rare ones are left to byte fallback.
  const charCounts = new Map<string, number>()
  for (const [word, count] of counts) for (const ch of word) charCounts.set(ch, (charCounts.get(ch) ?? 0) + count)
  const chars = [...charCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([ch]) => ch)
  const charLimit = Math.min(chars.length, Math.max(1, Math.floor((size - pieces.length) / 3)))
  const known = new Set(chars.slice(0, charLimit))
  pieces.push(...known)
  const words = [...counts].map(([w, count]) => ({ symbols: Array.from(w), count }))
  const inVocab = new Set(pieces)
  while (pieces.length < size) {
    const best = mostFrequentPair(words, (symbol) => inVocab.has(symbol))
    if (best === null) break
    const [left, right] = best
    if (!inVocab.has(left + right)) {
      pieces.push(left + right)
      inVocab.add(left + right)
    }
    for (const w of words) w.symbols = applyMerge(w.symbols, left, right)
  }
  return { pieces, merges: mergesFromPieces(pieces) }
}

/** SentencePieceExtractor: each piece's splits into two pieces, by the piece's id, then the parts' ids. */
export function mergesFromPieces(pieces: string[]): [string, string][] {
  const id = new Map(pieces.map((p, i) => [p, i]))
  const merges: [string, string][] = []
  for (const piece of pieces) {
    if (id.get(piece)! < SPM_SPECIALS.length + BYTE_TOKENS.length) continue
    const chars = Array.from(piece)
    const local: [string, string][] = []
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('')
      const right = chars.slice(i).join('')
      if (id.has(left) && id.has(right)) local.push([left, right])
    }
    local.sort((a, b) => id.get(a[0])! - id.get(b[0])! || id.get(a[1])! - id.get(b[1])!)
    merges.push(...local)
  }
  return merges
}

/** The tokenizer.json, as the Rust `tokenizers` library serialises Llama-2's; `added` are extra special tokens appended after the pieces. */
export function buildSentencePieceTokenizerJson(vocab: SentencePieceVocab, added: string[]): Record<string, unknown> {
  const ids: Record<string, number> = Object.fromEntries(vocab.pieces.map((p, i) => [p, i]))
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })
  const addedTokens = [...SPM_SPECIALS.map((s, i) => special(s, i)), ...added.map((s, i) => special(s, vocab.pieces.length + i))]
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPM_SPACE }, { type: 'Replace', pattern: { String: ' ' }, content: SPM_SPACE }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPM_SPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: ids,
      merges: vocab.merges,
    },
  }
}

// Builds a real byte-level BPE tokenizer.json (the GPT-2 / Llama-3 / Qwen2 family) from a small
// corpus: 256 byte tokens, greedily learned merges, then special tokens at the end of the vocab.

/** GPT-2's reversible byte -> printable unicode character map (bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const printable: number[] = []
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b)
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b)
  for (let b = 0xae; b <= 0xff; b++) printable.push(b)
  const map: string[] = new Array(256)
  let extra = 0
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++)
  }
  return map
}

/** GPT-2's pre-tokenization regex, used to split the training corpus into words. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu

export const PRE_TOKENIZER_PATTERNS = {
  llama3: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  qwen2: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
} as const

export type PreTokenizerStyle = 'gpt2' | 'llama3' | 'qwen2'

export interface BpeVocab {
  /** Token string -> id, byte tokens first (ids 0..255 in byte order), then merged tokens. */
  vocab: Map<string, number>
  /** "left right" merges in priority order. */
  merges: string[]
}

/**
 * Learns merges until the vocabulary holds `size` tokens. Ties between equally frequent pairs
 * break on the pair's text, so the result depends only on the corpus.
 */
export function trainByteLevelBpe(corpus: string, size: number): BpeVocab {
  const byteChars = bytesToUnicode()
  const vocab = new Map<string, number>()
  byteChars.forEach((char, byte) => vocab.set(char, byte))
  const counts = new Map<string, number>()
  for (const word of corpus.match(GPT2_SPLIT) ?? []) {
    const mapped = Array.from(new TextEncoder().encode(word), (b) => byteChars[b]).join('\u0000')
    counts.set(mapped, (counts.get(mapped) ?? 0) + 1)
  }
  const words = [...counts].map(([w, count]) => ({ symbols: w.split('\u0000'), count }))
  const merges: string[] = []
  while (vocab.size < size) {
    const best = mostFrequentPair(words)
    if (best === null) throw new Error(`corpus too small for a ${size}-token vocabulary (${vocab.size} reached)`)
    const [left, right] = best
    merges.push(`${left} ${right}`)
    if (!vocab.has(left + right)) vocab.set(left + right, vocab.size)
    for (const word of words) word.symbols = applyMerge(word.symbols, left, right)
  }
  return { vocab, merges }
}

export interface BpeWord {
  symbols: string[]
  count: number
}

/**
 * The most frequent adjacent pair of symbols over the words (symbols contain no space), ties
 * broken on the pair's text; only pairs of `usable` symbols count. Null when there is none.
 */
export function mostFrequentPair(words: BpeWord[], usable: (symbol: string) => boolean = () => true): [string, string] | null {
  const pairs = new Map<string, number>()
  for (const { symbols, count } of words) {
    for (let i = 0; i + 1 < symbols.length; i++) {
      if (!usable(symbols[i]) || !usable(symbols[i + 1])) continue
      const pair = `${symbols[i]} ${symbols[i + 1]}`
      pairs.set(pair, (pairs.get(pair) ?? 0) + count)
    }
  }
  let best: string | null = null
  let bestCount = 0
  for (const [pair, count] of pairs) {
    if (count > bestCount || (count === bestCount && best !== null && pair < best)) {
      best = pair
      bestCount = count
    }
  }
  return best === null ? null : (best.split(' ') as [string, string])
}

export function applyMerge(symbols: string[], left: string, right: string): string[] {
  const out: string[] = []
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right)
      i++
    } else out.push(symbols[i])
  }
  return out
}

export interface TokenizerJsonOptions {
  bpe: BpeVocab
  /** Special tokens, appended after the learned vocabulary in this order. */
  specialTokens: string[]
  style: PreTokenizerStyle
  /** A special token the post-processor prepends to every encoding (Llama-3's BOS), or null. */
  prependToken: string | null
}

/** A tokenizer.json as the Rust `tokenizers` library serialises it. */
export function buildTokenizerJson(options: TokenizerJsonOptions): Record<string, unknown> {
  const { bpe, specialTokens, style, prependToken } = options
  const vocab: Record<string, number> = Object.fromEntries(bpe.vocab)
  const addedTokens = specialTokens.map((content, i) => {
    const id = bpe.vocab.size + i
    vocab[content] = id
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }
  })
  const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex })
  const preTokenizer =
    style === 'gpt2'
      ? byteLevel(true)
      : {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: PRE_TOKENIZER_PATTERNS[style] }, behavior: 'Isolated', invert: false },
            byteLevel(false),
          ],
        }
  let postProcessor: Record<string, unknown> = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true }
  if (prependToken !== null) {
    const id = vocab[prependToken]
    const special = { SpecialToken: { id: prependToken, type_id: 0 } }
    postProcessor = {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [special, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [special, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: prependToken, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { [prependToken]: { id: prependToken, ids: [id], tokens: [prependToken] } },
        },
      ],
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: style === 'qwen2' ? { type: 'NFC' } : null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: style === 'llama3',
      vocab,
      merges: bpe.merges,
    },
  }
}

// The token count of a training file as the trainer will see it, one row at a time (the caller
// streams the file): each row goes through the trainer's own encoding (training-set.ts), so the
// tokens per epoch and the truncated examples are the trainer's numbers exactly. Lengths are kept
// (one integer per example) for the distribution: p50 / p95 / max example length before truncation.
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import { encodePreferenceRow, encodeSftRow, exampleTokens, type JsonlRow } from './training-set.ts'

export interface TokenCount {
  examples: number
  /** Tokens of one epoch, after truncation: the trainer's tokensPerEpoch. */
  tokens: number
  /** Examples longer than maxLength (a pair: either sequence). */
  truncated: number
  /** The context the examples are cut at. */
  maxLength: number
  /** Example lengths before truncation (a pair: its longer sequence), nearest-rank percentiles. */
  p50: number
  p95: number
  max: number
}

/** Nearest-rank percentile of sorted lengths (0 for none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export class TokenCounter {
  readonly #tokenizer: TextTokenizer
  readonly #preference: boolean
  readonly #maxLength: number
  #lengths = new Int32Array(1024)
  #examples = 0
  #tokens = 0
  #truncated = 0

  /** `preference`: DPO rows; otherwise chat or prompt/completion rows. */
  constructor(tokenizer: TextTokenizer, opts: { preference: boolean; maxLength: number }) {
    this.#tokenizer = tokenizer
    this.#preference = opts.preference
    this.#maxLength = opts.maxLength
  }

  #encode(row: JsonlRow, maxLength: number) {
    return this.#preference ? encodePreferenceRow(this.#tokenizer, row, maxLength) : encodeSftRow(this.#tokenizer, row, maxLength)
  }

  #fullLength(row: JsonlRow): number {
    const full = this.#encode(row, Number.POSITIVE_INFINITY)
    return 'ids' in full ? full.ids.length : Math.max(full.chosen.ids.length, full.rejected.ids.length)
  }

  /** Counts one row (a parsed JSONL line of a validated file). */
  add(row: JsonlRow): void {
    const encoded = this.#encode(row, this.#maxLength)
    const { tokens, truncated } = exampleTokens(encoded)
    this.#tokens += tokens
    // Only a cut-off example needs encoding again to know how long it really is.
    const length = truncated ? this.#fullLength(row) : 'ids' in encoded ? encoded.ids.length : Math.max(encoded.chosen.ids.length, encoded.rejected.ids.length)
    if (truncated) this.#truncated++
    if (this.#examples === this.#lengths.length) {
      const grown = new Int32Array(this.#lengths.length * 2)
      grown.set(this.#lengths)
      this.#lengths = grown
    }
    this.#lengths[this.#examples++] = length
  }

  result(): TokenCount {
    const sorted = this.#lengths.slice(0, this.#examples).sort()
    return {
      examples: this.#examples,
      tokens: this.#tokens,
      truncated: this.#truncated,
      maxLength: this.#maxLength,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      max: sorted.length ? sorted[sorted.length - 1] : 0,
    }
  }
}

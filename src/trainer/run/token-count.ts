// The token count of a training file as the trainer will see it, one row at a time (the caller
// streams the file): each row goes through the trainer's own encoding (rowLengths in training-set.ts:
// the ids encodeChat / encodeCompletion train on, without rendering the loss mask's prefixes), and the
// trainer's truncation keeps min(length, maxLength) of each sequence, so the tokens per epoch and the
// truncated examples are the trainer's numbers exactly. Lengths are kept
// (one integer per example) for the distribution: p50 / p95 / max example length before truncation.
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import { rowLengths, type JsonlRow } from './training-set.ts'

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

  /** Counts one row (a parsed JSONL line of a validated file). */
  add(row: JsonlRow): void {
    const lengths = rowLengths(this.#tokenizer, this.#preference, row)
    for (const length of lengths) this.#tokens += Math.min(length, this.#maxLength)
    if (lengths.some((length) => length > this.#maxLength)) this.#truncated++
    if (this.#examples === this.#lengths.length) {
      const grown = new Int32Array(this.#lengths.length * 2)
      grown.set(this.#lengths)
      this.#lengths = grown
    }
    this.#lengths[this.#examples++] = Math.max(...lengths)
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

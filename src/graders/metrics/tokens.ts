// Tokenisers the similarity metrics use.

/** BLEU, GLEU, METEOR: words split on whitespace (as the texts are given to NLTK's scorers). */
export function whitespaceTokens(text: string): string[] {
  return text.split(/\s+/).filter((t) => t !== '')
}

/** ROUGE: Google's rouge-score tokeniser — lowercased, runs of anything but [a-z0-9] are separators. */
export function rougeTokens(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').split(/\s+/).filter((t) => t !== '')
}

/** Counts of the n-grams of `tokens`, keyed by the n-gram joined with U+0001. */
export function ngramCounts(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0001')
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}

/** Σ min(count in a, count in b): the clipped overlap of two n-gram multisets. */
export function overlap(a: Map<string, number>, b: Map<string, number>): number {
  let n = 0
  for (const [key, count] of a) n += Math.min(count, b.get(key) ?? 0)
  return n
}

/** Length of the longest common subsequence of two sequences (dynamic programming, two rows). */
export function lcsLength<T>(a: T[], b: T[]): number {
  let prev = new Array<number>(b.length + 1).fill(0)
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0)
    for (let j = 1; j <= b.length; j++) row[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1])
    prev = row
  }
  return prev[b.length]
}

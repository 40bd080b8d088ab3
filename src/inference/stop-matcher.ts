// Stop sequences over streamed text: text is released only once it cannot be the start of a
// stop sequence, and generation ends at the first full match (the stop text itself never shows).
export class StopMatcher {
  private readonly stops: string[]
  private pending = ''
  stopped = false

  constructor(stops: string[]) {
    this.stops = stops.filter((s) => s !== '')
  }

  /** Feeds new text; returns what can be shown now. After a match, `stopped` is true. */
  push(text: string): string {
    if (this.stopped) return ''
    this.pending += text
    let first = -1
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop)
      if (at !== -1 && (first === -1 || at < first)) first = at
    }
    if (first !== -1) {
      this.stopped = true
      const out = this.pending.slice(0, first)
      this.pending = ''
      return out
    }
    const hold = this.heldBack()
    const out = this.pending.slice(0, this.pending.length - hold)
    this.pending = this.pending.slice(this.pending.length - hold)
    return out
  }

  /** At the end of generation: whatever was held back. */
  flush(): string {
    const out = this.stopped ? '' : this.pending
    this.pending = ''
    return out
  }

  /** Length of the longest suffix of the pending text that is a proper prefix of a stop sequence. */
  private heldBack(): number {
    let longest = 0
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > longest; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          longest = n
          break
        }
      }
    }
    return longest
  }
}

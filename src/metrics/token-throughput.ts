// Training throughput from the trainers' metrics reports. Each report's new tokens (the job's
// trained_tokens minus what the database held before the report) are added here; the rate is their
// sum over the last minute. A per-process rate, deliberately: reports of one job reach whichever API
// replica the load balancer picks, so only the sum over replicas (what Prometheus adds up) is whole.

/** The window the rate is averaged over. */
export const WINDOW_MS = 60_000

export class TokenThroughput {
  private readonly reports: { atMs: number; tokens: number }[] = []

  add(tokens: number, atMs: number): void {
    if (tokens > 0) this.reports.push({ atMs, tokens })
  }

  /** Tokens per second over the last WINDOW_MS; forgets older reports. */
  perSecond(nowMs: number): number {
    while (this.reports.length > 0 && nowMs - this.reports[0].atMs > WINDOW_MS) this.reports.shift()
    return this.reports.reduce((sum, r) => sum + r.tokens, 0) / (WINDOW_MS / 1000)
  }
}

// A job's events, kept up to date by polling: the events endpoint lists newest first, so each poll
// reads pages until it reaches an event it already has.
import type { FineTuningJobEvent } from 'openai/resources/fine-tuning/jobs'
import type { Client } from './client.ts'

export type JobEvent = FineTuningJobEvent & { data?: Record<string, unknown> }

export class EventsFeed {
  private readonly client: Client
  private readonly jobId: string
  private readonly seen = new Set<string>()
  /** Oldest first. */
  events: JobEvent[] = []

  constructor(client: Client, jobId: string) {
    this.client = client
    this.jobId = jobId
  }

  /** Fetches what is new (on the first call, everything: up to 100,000 events); returns whether anything was. */
  async poll(maxPages = 1000): Promise<boolean> {
    const fresh: JobEvent[] = []
    let after: string | undefined
    for (let page = 0; page < maxPages; page++) {
      const res = await this.client.fineTuning.jobs.listEvents(this.jobId, { limit: 100, ...(after ? { after } : {}) })
      const rows = res.data as JobEvent[]
      let reachedKnown = false
      for (const e of rows) {
        if (this.seen.has(e.id)) {
          reachedKnown = true
          break
        }
        fresh.push(e)
      }
      if (reachedKnown || !res.has_more || rows.length === 0) break
      after = rows[rows.length - 1].id
    }
    if (fresh.length === 0) return false
    for (const e of fresh) this.seen.add(e.id)
    this.events = [...this.events, ...fresh.reverse()]
    return true
  }
}

// Every Prometheus metric Skillet exposes, in one registry per process (not prom-client's global one,
// so tests can run several apps side by side). Three kinds of sources:
//   - events counted where they happen: HTTP requests, claims (queue wait), trainer metrics reports
//     (tokens), webhook attempts;
//   - the database, read on scrape with a few small queries (jobs by status, queue depth, pending
//     webhooks) and shared by all gauges of one scrape;
//   - this process's own state on scrape: trainers its scheduler supervises; default process metrics.
import { sql } from 'drizzle-orm'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../db/database.ts'
import { JOB_STATUSES } from '../jobs/state-machine.ts'
import { TokenThroughput } from './token-throughput.ts'

export interface DatabaseSnapshot {
  jobsByStatus: Record<string, number>
  /** Queued jobs whose run_after has passed: they wait only for capacity. */
  runnable: number
  /** Seconds the longest-waiting runnable job has waited; 0 when none. */
  oldestRunnableSeconds: number
  pendingWebhooks: number
  /** Seconds since the oldest undelivered webhook event was created; 0 when none. */
  oldestPendingWebhookSeconds: number
}

/** How long one scrape's database reading is reused by the other gauges of the same scrape. */
const SNAPSHOT_TTL_MS = 1000

export class SkilletMetrics {
  readonly registry = new Registry()
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly queueWait: Histogram
  readonly trainedTokens: Counter
  readonly webhookAttempts: Counter<'outcome'>
  readonly webhookDeliveryLag: Histogram
  private readonly throughput = new TokenThroughput()
  private db: Db | undefined
  private runningTrainers: (() => number) | undefined
  private snapshot: { at: number; value: Promise<DatabaseSnapshot> } | undefined

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.httpDuration = new Histogram({
      name: 'skillet_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
    this.queueWait = new Histogram({
      name: 'skillet_queue_wait_seconds',
      help: 'Seconds a job waited as runnable in the queue before a scheduler claimed it',
      buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600],
      registers,
    })
    this.trainedTokens = new Counter({ name: 'skillet_trained_tokens_total', help: 'Tokens trained, from the trainers\' metrics reports', registers })
    this.webhookAttempts = new Counter({
      name: 'skillet_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome: delivered, retry (failed, will retry), give_up (failed for 72 hours), endpoint_gone (410)',
      labelNames: ['outcome'],
      registers,
    })
    this.webhookDeliveryLag = new Histogram({
      name: 'skillet_webhook_delivery_lag_seconds',
      help: 'Seconds from a webhook event to its successful delivery',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600, 72 * 3600],
      registers,
    })
    const self = this
    new Gauge({
      name: 'skillet_training_tokens_per_second',
      help: 'Training throughput reported to this process, averaged over the last minute (sum it over API replicas)',
      registers,
      collect() {
        this.set(self.throughput.perSecond(Date.now()))
      },
    })
    new Gauge({
      name: 'skillet_trainers_running',
      help: 'Trainers the scheduler of this process launched and still supervises',
      registers,
      collect() {
        this.set(self.runningTrainers?.() ?? 0)
      },
    })
    this.databaseGauge('skillet_fine_tuning_jobs', 'Fine-tuning jobs by status', ['status'], (g, s) => {
      for (const status of JOB_STATUSES) g.set({ status }, s.jobsByStatus[status] ?? 0)
    })
    this.databaseGauge('skillet_queue_depth', 'Queued jobs that may run now and wait for capacity', [], (g, s) => g.set(s.runnable))
    this.databaseGauge('skillet_queue_oldest_wait_seconds', 'How long the longest-waiting runnable job has waited', [], (g, s) => g.set(s.oldestRunnableSeconds))
    this.databaseGauge('skillet_webhook_deliveries_pending', 'Webhook deliveries not yet delivered nor given up', [], (g, s) => g.set(s.pendingWebhooks))
    this.databaseGauge('skillet_webhook_lag_seconds', 'Age of the oldest webhook delivery still pending', [], (g, s) => g.set(s.oldestPendingWebhookSeconds))
  }

  /** Reads job and webhook gauges from this database on scrape. */
  watchDatabase(db: Db): void {
    this.db = db
  }

  /** Reads the number of running trainers from the scheduler of this process on scrape. */
  watchTrainers(count: () => number): void {
    this.runningTrainers = count
  }

  /** A trainer's metrics report added `tokens` to its job's trained tokens. */
  tokensTrained(tokens: number, atMs = Date.now()): void {
    if (tokens <= 0) return
    this.trainedTokens.inc(tokens)
    this.throughput.add(tokens, atMs)
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.snapshot = undefined // each scrape reads the database once, fresh
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }

  private databaseGauge(name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, s: DatabaseSnapshot) => void): void {
    const self = this
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        if (!self.db) return
        fill(this, await self.readDatabase(self.db))
      },
    })
  }

  private readDatabase(db: Db): Promise<DatabaseSnapshot> {
    const now = Date.now()
    if (!this.snapshot || now - this.snapshot.at > SNAPSHOT_TTL_MS) this.snapshot = { at: now, value: readDatabaseSnapshot(db, Math.floor(now / 1000)) }
    return this.snapshot.value
  }
}

function rowsOf(result: unknown): Record<string, unknown>[] {
  return (result as { rows: Record<string, unknown>[] }).rows
}

/** Three small queries; the queue and webhook ones are served by the partial indexes on their status. */
export async function readDatabaseSnapshot(db: Db, nowSeconds: number): Promise<DatabaseSnapshot> {
  const [byStatus, queue, webhooks] = await Promise.all([
    db.execute(sql`select status, count(*)::int as n from fine_tuning_jobs group by status`),
    db.execute(sql`select count(*)::int as n, min(run_after) as oldest from fine_tuning_jobs where status = 'queued' and run_after <= ${nowSeconds}`),
    db.execute(sql`select count(*)::int as n, min(created_at) as oldest from webhook_deliveries where status = 'pending'`),
  ])
  const q = rowsOf(queue)[0] ?? {}
  const w = rowsOf(webhooks)[0] ?? {}
  const age = (oldest: unknown) => (oldest === null || oldest === undefined ? 0 : Math.max(0, nowSeconds - Number(oldest)))
  return {
    jobsByStatus: Object.fromEntries(rowsOf(byStatus).map((r) => [String(r.status), Number(r.n)])),
    runnable: Number(q.n ?? 0),
    oldestRunnableSeconds: age(q.oldest),
    pendingWebhooks: Number(w.n ?? 0),
    oldestPendingWebhookSeconds: age(w.oldest),
  }
}

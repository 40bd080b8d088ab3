// The Trainer's Reporter for a service job: step metrics, validation, checkpoints and events go to
// the API through the trainer protocol (docs/trainer-protocol.md). Reporter calls are synchronous,
// so reports queue and are sent in order in the background; `flush()` waits for them and throws
// the first report that failed for good. Every report carries an idempotency key that is stable
// across retries and attempts (metrics and checkpoints by step, events by key), so a resumed
// attempt that repeats a step never duplicates anything. Events reported one after the other,
// with no other report between them, go in one request (up to MAX_EVENTS_PER_REQUEST): the five
// before a job's first step were five round trips ahead of its first metrics.
import { createHash } from 'node:crypto'
import type { TrainerClient } from './trainer-client.ts'
import type { ReportedEvent } from '../../protocol/trainer-reports.ts'
import type { CheckpointInfo, EvalMetrics, EventLevel, Reporter, StepMetrics } from '../train/reporter.ts'

export interface RunPlan {
  stepsPerEpoch: number
  tokensPerEpoch: number
  /** Names this attempt's speed event. */
  attempt: number
}

/** Steps (after the first) timed before the speed is reported. */
const SPEED_AFTER_STEPS = 4

type MetricsReport = Parameters<TrainerClient['metrics']>[0]

/** The API's limit (EventsReportSchema). */
const MAX_EVENTS_PER_REQUEST = 100

/** An event's key when the caller gives none: its text, so the same message is recorded once. */
const keyOf = (level: EventLevel, message: string) => `trainer:${createHash('sha256').update(`${level}\n${message}`).digest('hex').slice(0, 24)}`

export class ProtocolReporter implements Reporter {
  private readonly client: TrainerClient
  private readonly plan: RunPlan
  private readonly onFailure: (err: Error) => void
  private queue: Promise<void> = Promise.resolve()
  private failure: Error | null = null
  /** The latest step's report, held back until we know whether validation metrics join it. */
  private pending: MetricsReport | null = null
  /** Events queued as the last report and not yet sent: later events join them. */
  private openBatch: ReportedEvent[] | null = null
  /** This attempt's timing, leaving out its first step (backend warm-up, kernel compilation). */
  private stepsThisAttempt = 0
  private timed = { steps: 0, ms: 0, tokens: 0 }

  constructor(client: TrainerClient, plan: RunPlan, onFailure: (err: Error) => void) {
    this.client = client
    this.plan = plan
    this.onFailure = onFailure
  }

  private send(report: () => Promise<unknown>): void {
    this.openBatch = null
    this.queue = this.queue.then(async () => {
      if (this.failure) return
      try {
        await report()
      } catch (err) {
        this.failure = err as Error
        this.onFailure(err as Error)
      }
    })
  }

  private sendPending(): void {
    const m = this.pending
    if (!m) return
    this.pending = null
    this.send(() => this.client.metrics(m))
  }

  /** Tokens of the steps done so far: the fraction of the run times the run's tokens (stable across attempts). */
  private trainedTokens(step: number): number {
    return Math.round((this.plan.tokensPerEpoch * step) / this.plan.stepsPerEpoch)
  }

  onStep(m: StepMetrics): void {
    this.sendPending()
    this.stepsThisAttempt += 1
    if (this.stepsThisAttempt > 1) {
      this.timed.steps += 1
      this.timed.ms += m.stepMs
      this.timed.tokens += (m.tokensPerSec * m.stepMs) / 1000
    }
    const msPerStep = this.timed.steps ? this.timed.ms / this.timed.steps : m.stepMs
    const remaining = (msPerStep * (m.totalSteps - m.step)) / 1000
    this.pending = {
      step: m.step,
      total_steps: m.totalSteps,
      train_loss: m.trainLoss,
      train_mean_token_accuracy: m.trainAccuracy,
      trained_tokens: this.trainedTokens(m.step),
      remaining_seconds: remaining,
    }
    // A few steps after the warm-up show the speed this attempt will keep.
    if (this.timed.steps === SPEED_AFTER_STEPS || (m.step === m.totalSteps && this.timed.steps < SPEED_AFTER_STEPS)) {
      const tokensPerSecond = this.timed.ms ? (this.timed.tokens * 1000) / this.timed.ms : m.tokensPerSec
      const seconds = Math.max(1, Math.round(remaining))
      this.event(`speed:${this.plan.attempt}`, `Training at ${Math.round(tokensPerSecond).toLocaleString('en-US')} tokens/s: ` +
        `about ${seconds} second${seconds === 1 ? '' : 's'} remaining`, { data: { tokens_per_second: tokensPerSecond, remaining_seconds: remaining } })
    }
  }

  onEval(m: EvalMetrics): void {
    // A non-finite number would become null in JSON: report only what is a number.
    const p = this.pending
    if (p?.step === m.step) {
      const put = (key: 'valid_loss' | 'valid_mean_token_accuracy' | 'full_valid_loss' | 'full_valid_mean_token_accuracy', v: number | undefined) => {
        if (v !== undefined && Number.isFinite(v)) p[key] = v
      }
      put('valid_loss', m.validLoss)
      put('valid_mean_token_accuracy', m.validAccuracy)
      put('full_valid_loss', m.fullValidLoss)
      put('full_valid_mean_token_accuracy', m.fullValidAccuracy)
    }
    this.sendPending()
  }

  onCheckpoint(info: CheckpointInfo): void {
    this.sendPending()
    const metrics = Object.fromEntries(Object.entries(info.metrics).filter(([, v]) => Number.isFinite(v)))
    this.send(() => this.client.checkpoint({ step: info.step, metrics, blob_prefix: info.location, ...(info.artifacts ? { artifacts: info.artifacts } : {}) }))
  }

  onEvent(level: EventLevel, message: string): void {
    this.event(keyOf(level, message), message, { level })
  }

  /** An event with an explicit idempotency key (stable across attempts unless it names one). */
  event(key: string, message: string, opts: { level?: EventLevel; data?: Record<string, unknown> } = {}): void {
    const event: ReportedEvent = { idempotency_key: key, message, level: opts.level ?? 'info', ...(opts.data ? { data: opts.data } : {}) }
    if (this.openBatch && this.openBatch.length < MAX_EVENTS_PER_REQUEST) {
      this.openBatch.push(event)
      return
    }
    const batch = [event]
    this.send(() => {
      if (this.openBatch === batch) this.openBatch = null
      return this.client.events(batch)
    })
    this.openBatch = batch
  }

  /** This attempt's steady-state speed (its first step left out), or null before a timed step. */
  get tokensPerSecond(): number | null {
    return this.timed.ms > 0 ? (this.timed.tokens * 1000) / this.timed.ms : null
  }

  /** Sends what is held back and waits for every queued report; throws the first that failed. */
  async flush(): Promise<void> {
    this.sendPending()
    await this.queue
    if (this.failure) throw this.failure
  }
}

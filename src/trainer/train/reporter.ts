// How training tells the world what it is doing. The service implements Reporter to turn
// these into fine-tuning job events and metrics; the CLI uses the two reporters below.

export interface StepMetrics {
  /** 1-based optimizer step. */
  step: number
  totalSteps: number
  epoch: number
  trainLoss: number
  /** Fraction of target tokens whose argmax prediction was right. */
  trainAccuracy: number
  learningRate: number
  gradNorm: number
  /** Target tokens (loss positions) in this step. */
  tokens: number
  tokensPerSec: number
  stepMs: number
  /** DPO only: mean implicit reward margin (chosen − rejected). */
  rewardMargin?: number
}

/** A validation point: the fixed sample always, the whole validation file at a checkpoint. */
export interface EvalMetrics {
  step: number
  epoch: number
  validLoss: number
  validAccuracy: number
  fullValidLoss?: number
  fullValidAccuracy?: number
}

export interface CheckpointInfo {
  step: number
  epoch: number
  /** Where the checkpoint store put it (a directory, a blob prefix). */
  location: string
  /** The checkpoint's metrics by OpenAI's names (train_loss, valid_loss, full_valid_loss, …): finite numbers only. */
  metrics: Record<string, number>
  /** The checkpoint model's exported files, when the run exports them (the service does). */
  artifacts?: { name: string; key: string }[]
}

export type EventLevel = 'info' | 'warn' | 'error'

export interface Reporter {
  onStep(metrics: StepMetrics): void
  onEval(metrics: EvalMetrics): void
  onCheckpoint(info: CheckpointInfo): void
  onEvent(level: EventLevel, message: string): void
}

/** One JSON object per line on `write` (stdout by default): machine-readable progress. */
export class JsonLinesReporter implements Reporter {
  private readonly write: (line: string) => void
  constructor(write: (line: string) => void = (line) => process.stdout.write(line)) {
    this.write = write
  }
  private emit(type: string, body: object): void {
    this.write(JSON.stringify({ type, time: Date.now() / 1000, ...body }) + '\n')
  }
  onStep(metrics: StepMetrics): void { this.emit('step', metrics) }
  onEval(metrics: EvalMetrics): void { this.emit('eval', metrics) }
  onCheckpoint(info: CheckpointInfo): void { this.emit('checkpoint', info) }
  onEvent(level: EventLevel, message: string): void { this.emit('event', { level, message }) }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`
}

/** A human progress line per step (step/total, loss, tokens/s, ETA); events on their own lines. */
export class ProgressLineReporter implements Reporter {
  private readonly write: (text: string) => void
  private readonly started = Date.now()
  constructor(write: (text: string) => void = (text) => process.stdout.write(text)) {
    this.write = write
  }
  onStep(m: StepMetrics): void {
    const elapsed = (Date.now() - this.started) / 1000
    const eta = (elapsed / m.step) * (m.totalSteps - m.step)
    this.write(`\rstep ${m.step}/${m.totalSteps}  epoch ${m.epoch}  loss ${m.trainLoss.toFixed(4)}  acc ${(m.trainAccuracy * 100).toFixed(1)}%  ` +
      `lr ${m.learningRate.toExponential(2)}  ${Math.round(m.tokensPerSec)} tok/s  ETA ${formatDuration(eta)}   `)
    if (m.step === m.totalSteps) this.write('\n')
  }
  onEval(m: EvalMetrics): void {
    const full = m.fullValidLoss !== undefined ? `; whole file ${m.fullValidLoss.toFixed(4)}, ${((m.fullValidAccuracy ?? NaN) * 100).toFixed(1)}%` : ''
    this.write(`\nstep ${m.step} (epoch ${m.epoch}): validation loss ${m.validLoss.toFixed(4)}, accuracy ${(m.validAccuracy * 100).toFixed(1)}%${full}\n`)
  }
  onCheckpoint(info: CheckpointInfo): void {
    this.write(`\ncheckpoint at step ${info.step} → ${info.location}\n`)
  }
  onEvent(level: EventLevel, message: string): void {
    this.write(`\n[${level}] ${message}\n`)
  }
}

/** The progress line on a terminal, JSON lines otherwise (pipes, log collectors). */
export function defaultReporter(): Reporter {
  return process.stdout.isTTY ? new ProgressLineReporter() : new JsonLinesReporter()
}

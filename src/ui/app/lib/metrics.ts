// A job's `metrics` events as chart series: one point per step, in step order.
export interface MetricsEvent {
  type?: string
  data?: unknown
}

export interface Series {
  step: number[]
  trainLoss: (number | null)[]
  validLoss: (number | null)[]
  tokenAccuracy: (number | null)[]
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export function seriesFromEvents(events: MetricsEvent[]): Series {
  const byStep = new Map<number, Record<string, unknown>>()
  for (const e of events) {
    if (e.type !== 'metrics' || !e.data || typeof e.data !== 'object') continue
    const d = e.data as Record<string, unknown>
    const step = num(d.step)
    if (step !== null) byStep.set(step, d)
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b)
  return {
    step: steps,
    trainLoss: steps.map((s) => num(byStep.get(s)!.train_loss)),
    validLoss: steps.map((s) => num(byStep.get(s)!.valid_loss)),
    tokenAccuracy: steps.map((s) => num(byStep.get(s)!.train_mean_token_accuracy)),
  }
}

// Learning-rate schedule: linear warmup from ~0 to the peak, then linear or cosine decay to
// `minRatio`·peak at the last step. Pure.

export interface LrSchedule {
  peak: number
  totalSteps: number
  warmupSteps: number
  decay: 'linear' | 'cosine' | 'constant'
  /** Fraction of the peak reached at the end (0 = decay to zero). */
  minRatio: number
}

/** Learning rate for 0-based optimizer step `step`. */
export function learningRateAt(s: LrSchedule, step: number): number {
  if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps
  if (s.decay === 'constant') return s.peak
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps)
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps)
  const shape = s.decay === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress))
  return s.peak * (s.minRatio + (1 - s.minRatio) * shape)
}

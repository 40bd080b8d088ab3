// What a job will cost before it runs: tokens, optimizer steps and a duration. Pure arithmetic on
// the validated file's statistics, so it is known while the job is still queued.
import type { JobEstimate } from '../db/schema/jobs.ts'
import type { JobEstimateView } from '../schemas/fine-tuning.ts'
import type { TrainingSpeed } from './training-speed.ts'

export function estimateJob(
  dataset: { examples: number; tokens: number },
  hyper: { n_epochs: number; batch_size: number },
  speed: TrainingSpeed,
): JobEstimate {
  const stepsPerEpoch = Math.ceil(dataset.examples / hyper.batch_size)
  const totalSteps = stepsPerEpoch * hyper.n_epochs
  const estimatedSeconds = Math.max(1, Math.ceil(speed.overheadSeconds + (dataset.tokens * hyper.n_epochs) / speed.tokensPerSecond))
  return { tokens: dataset.tokens, examples: dataset.examples, totalSteps, estimatedSeconds, speed }
}

/** "about 3 minutes", "about 40 seconds", "about 2.5 hours". */
export function describeDuration(seconds: number): string {
  if (seconds < 90) return `about ${seconds} second${seconds === 1 ? '' : 's'}`
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes`
  return `about ${(seconds / 3600).toFixed(1)} hours`
}

export function estimateMessage(e: JobEstimate, nEpochs: number): string {
  const how = e.counted === 'tokenizer' ? "; tokens counted with the base model's tokenizer and chat template"
    : e.counted === 'characters' ? `; tokens guessed as characters / 4 (${e.fallbackReason ?? 'no tokenizer to count with'})` : ''
  const speed = e.speed && e.speed.jobs > 0 ? `; speed measured on ${e.speed.jobs} finished job${e.speed.jobs === 1 ? '' : 's'} (${e.speed.backend})` : ''
  const lengths = e.exampleTokens ? ` (examples: median ${e.exampleTokens.p50}, p95 ${e.exampleTokens.p95}, longest ${e.exampleTokens.max} tokens)` : ''
  const cut = e.truncatedExamples ? `; ${e.truncatedExamples} example${e.truncatedExamples === 1 ? ' is' : 's are'} longer than the context of ${e.maxLength} tokens and will be truncated` : ''
  return (
    `Estimated ${e.tokens.toLocaleString('en-US')} training tokens per epoch over ${nEpochs} epoch${nEpochs === 1 ? '' : 's'}: ` +
    `${e.totalSteps} steps, ${describeDuration(e.estimatedSeconds)}${speed}${how}${lengths}${cut}`
  )
}

/** The estimate as the API shows it (the estimate event's data, the job's `estimate` extension). */
export function estimateEventData(e: JobEstimate, nEpochs: number): JobEstimateView {
  return {
    trained_tokens: e.tokens * nEpochs,
    tokens_per_epoch: e.tokens,
    examples: e.examples,
    total_steps: e.totalSteps,
    estimated_seconds: e.estimatedSeconds,
    token_count: e.counted ?? 'characters',
    example_tokens: e.exampleTokens ?? null,
    truncated_examples: e.truncatedExamples ?? null,
    context_length: e.maxLength ?? null,
    speed: e.speed ? { tokens_per_second: e.speed.tokensPerSecond, overhead_seconds: e.speed.overheadSeconds, backend: e.speed.backend, calibrated_jobs: e.speed.jobs } : null,
  }
}

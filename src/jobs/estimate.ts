// What a job will cost before it runs: tokens, optimizer steps and a duration. Pure arithmetic on
// the validated file's statistics, so it is known while the job is still queued.
import type { JobEstimate } from '../db/schema/jobs.ts'

export function estimateJob(
  dataset: { examples: number; tokens: number },
  hyper: { n_epochs: number; batch_size: number },
  tokensPerSecond: number,
): JobEstimate {
  const stepsPerEpoch = Math.ceil(dataset.examples / hyper.batch_size)
  const totalSteps = stepsPerEpoch * hyper.n_epochs
  const estimatedSeconds = Math.max(1, Math.ceil((dataset.tokens * hyper.n_epochs) / tokensPerSecond))
  return { tokens: dataset.tokens, examples: dataset.examples, totalSteps, estimatedSeconds }
}

/** "about 3 minutes", "about 40 seconds", "about 2.5 hours". */
export function describeDuration(seconds: number): string {
  if (seconds < 90) return `about ${seconds} second${seconds === 1 ? '' : 's'}`
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes`
  return `about ${(seconds / 3600).toFixed(1)} hours`
}

export function estimateMessage(e: JobEstimate, nEpochs: number): string {
  return (
    `Estimated ${e.tokens.toLocaleString('en-US')} training tokens per epoch over ${nEpochs} epoch${nEpochs === 1 ? '' : 's'}: ` +
    `${e.totalSteps} steps, ${describeDuration(e.estimatedSeconds)}`
  )
}

// OpenAI's "auto" hyperparameters, resolved by one documented rule from the dataset alone.
// OpenAI does not publish its rule; this one reproduces its observable behaviour:
//
//   n_epochs   — aim for 3 passes, but at least ~100 example-visits for tiny sets and at most
//                ~25,000 for big ones: clamp(3, ceil(100/n), floor(25000/n)) within [1, 25].
//   batch_size — about 0.2% of the examples, within [1, 256], and no larger than the set;
//                sequences longer than 1024 tokens on average halve it (memory), minimum 1.
//   learning_rate_multiplier — 0.05 for batches < 8, 0.1 up to 31, 0.2 from 32: bigger
//                batches average away more noise and tolerate a larger step.
//
// The multiplier scales a base learning rate chosen per method, so that the usual
// multiplier (0.1) lands on the usual learning rate for that method:
//   LoRA (and DPO, which trains LoRA adapters): base 2e-3 → 2e-4 at 0.1 (PEFT's customary LoRA LR)
//   full fine-tuning:                           base 2e-4 → 2e-5 at 0.1 (customary full-FT LR)

export type TrainingMethod = 'lora' | 'full' | 'dpo'

export const BASE_LEARNING_RATE: Record<TrainingMethod, number> = { lora: 2e-3, dpo: 2e-3, full: 2e-4 }

export interface HyperparameterRequest {
  nEpochs: number | 'auto'
  batchSize: number | 'auto'
  learningRateMultiplier: number | 'auto'
}

export interface ResolvedHyperparameters {
  nEpochs: number
  batchSize: number
  learningRateMultiplier: number
  /** BASE_LEARNING_RATE[method] · learningRateMultiplier */
  learningRate: number
}

export interface DatasetSummary {
  examples: number
  /** Total tokens over all examples (one epoch). */
  tokens: number
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))

export function resolveHyperparameters(method: TrainingMethod, request: HyperparameterRequest, data: DatasetSummary): ResolvedHyperparameters {
  const n = Math.max(1, data.examples)
  const nEpochs = request.nEpochs !== 'auto' ? request.nEpochs
    : clamp(clamp(3, Math.ceil(100 / n), Math.max(1, Math.floor(25000 / n))), 1, 25)

  let batchSize = request.batchSize
  if (batchSize === 'auto') {
    const meanTokens = data.tokens / n
    batchSize = clamp(Math.round(n * 0.002), 1, 256)
    if (meanTokens > 1024) batchSize = Math.max(1, Math.floor(batchSize / 2))
    batchSize = Math.min(batchSize, n)
  }

  const learningRateMultiplier = request.learningRateMultiplier !== 'auto' ? request.learningRateMultiplier
    : batchSize < 8 ? 0.05 : batchSize < 32 ? 0.1 : 0.2

  return { nEpochs, batchSize, learningRateMultiplier, learningRate: BASE_LEARNING_RATE[method] * learningRateMultiplier }
}

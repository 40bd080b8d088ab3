// OpenAI's "auto" hyperparameters, resolved by one documented rule from the dataset alone, and the
// learning rate they come to on a given model. OpenAI does not publish its rule; this one
// reproduces its observable behaviour:
//
//   n_epochs   — aim for 3 passes, but at least ~100 example-visits for tiny sets and at most
//                ~25,000 for big ones: clamp(3, ceil(100/n), floor(25000/n)) within [1, 25].
//   batch_size — about 0.2% of the examples, within [1, 256], and no larger than the set;
//                sequences longer than 1024 tokens on average halve it (memory), minimum 1.
//   learning_rate_multiplier — 0.05 for batches < 8, 0.1 up to 31, 0.2 from 32: bigger
//                batches average away more noise and tolerate a larger step.
//
// The learning rate is OpenAI's documented meaning of the multiplier: "the fine-tuning learning
// rate is the original learning rate used for pretraining multiplied by this value". A checkpoint
// does not say what it was pre-trained with, so the pre-training rate is estimated from the model's
// width, as GPT-3's table of rates falls with it (Brown et al. 2020, table 2.1: d_model 768 → 6e-4,
// 2048 → 2e-4, 4096 → 1.2e-4, 12288 → 0.6e-4), by 6e-4 · 768 / hidden_size, within [3e-5, 1e-2]:
//   Llama-2/3 7–8B (4096) → 1.1e-4;  SmolLM-135M (576) → 8e-4;  the demo model (64) → 7.2e-3.
// LoRA (and DPO, which trains LoRA adapters) takes 10 times that: adapters start at zero and are
// low-rank, and their customary rates sit an order of magnitude above full fine-tuning's (PEFT's
// 2e-4 vs 2e-5 on 7B models). So a 7B LoRA run at multiplier 0.1 trains at 1.1e-4, full
// fine-tuning at 1.1e-5; the demo model's 40-example job (batch 1, multiplier 0.05) at 3.6e-3.

import { Type, type Static } from 'typebox'

export type TrainingMethod = 'lora' | 'full' | 'dpo'

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))

/** How many times the full fine-tuning rate each method trains at. */
export const METHOD_LEARNING_RATE_FACTOR: Record<TrainingMethod, number> = { lora: 10, dpo: 10, full: 1 }

/** The estimated pre-training learning rate of a model of this width (see above). */
export function pretrainingLearningRate(hiddenSize: number): number {
  return clamp((6e-4 * 768) / Math.max(1, hiddenSize), 3e-5, 1e-2)
}

/** The learning rate a run trains at: pre-training rate · method factor · multiplier. */
export function learningRateFor(method: TrainingMethod, learningRateMultiplier: number, model: { hiddenSize: number }): number {
  return pretrainingLearningRate(model.hiddenSize) * METHOD_LEARNING_RATE_FACTOR[method] * learningRateMultiplier
}

const Auto = Type.Literal('auto')

/** What the job asked for: numbers, or 'auto' for the rule to choose. */
export const HyperparameterRequestSchema = Type.Object({
  nEpochs: Type.Union([Type.Integer({ minimum: 1 }), Auto]),
  batchSize: Type.Union([Type.Integer({ minimum: 1 }), Auto]),
  learningRateMultiplier: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Auto]),
})
export type HyperparameterRequest = Static<typeof HyperparameterRequestSchema>

/** What training uses: numbers only (the spec's method carries them to the trainer). */
export const ResolvedHyperparametersSchema = Type.Object({
  nEpochs: Type.Integer({ minimum: 1 }),
  batchSize: Type.Integer({ minimum: 1 }),
  learningRateMultiplier: Type.Number({ exclusiveMinimum: 0 }),
})
export type ResolvedHyperparameters = Static<typeof ResolvedHyperparametersSchema>

/** The dataset facts the rule reads. */
export const DatasetSummarySchema = Type.Object({
  examples: Type.Integer({ minimum: 0 }),
  /** Total tokens over all examples (one epoch). */
  tokens: Type.Integer({ minimum: 0 }),
})
export type DatasetSummary = Static<typeof DatasetSummarySchema>

export function resolveHyperparameters(request: HyperparameterRequest, data: DatasetSummary): ResolvedHyperparameters {
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

  return { nEpochs, batchSize, learningRateMultiplier }
}

// The forgetting check: after training, the loss on general held-out text (not the job's data) of the
// base model and of the fine-tuned one. A fine-tune that made the model worse at everything else
// ("catastrophic forgetting") shows as a rise; past FORGETTING_WARN_RISE it is a warning.
import type { SftBatch } from './trainer.ts'
import type { LoraAdapters } from '../model/lora.ts'
import type { ModelWeights } from '../model/weights.ts'
import type { ReportedEvaluation } from '../../protocol/trainer-reports.ts'
import { sftEvaluation } from './sft-loss.ts'

/** A relative rise of the held-out loss above this ((fine-tuned − base) / base) is a warning. */
export const FORGETTING_WARN_RISE = 0.1

export type ForgettingResult = NonNullable<ReportedEvaluation['forgetting']>

/** Mean next-token loss over every target token of `batches`. */
export async function meanTextLoss(weights: ModelWeights, lora: LoraAdapters | null, batches: SftBatch[]): Promise<number> {
  let lossSum = 0
  let count = 0
  for (const batch of batches) {
    const r = await sftEvaluation(weights, lora, batch)
    lossSum += r.lossSum
    count += r.count
  }
  return count ? lossSum / count : NaN
}

/**
 * `base`: the base model's weights (full fine-tuning changed `tuned.weights`); null when the tuned
 * model is `tuned.weights` plus adapters, so the base is the same weights with the adapters off.
 */
export async function forgettingCheck(tuned: { weights: ModelWeights; lora: LoraAdapters | null }, base: ModelWeights | null, batches: SftBatch[], set: { texts: number; source: string }): Promise<ForgettingResult> {
  const baseLoss = await meanTextLoss(base ?? tuned.weights, null, batches)
  const tunedLoss = await meanTextLoss(tuned.weights, tuned.lora, batches)
  const relative = (tunedLoss - baseLoss) / baseLoss
  return { ...set, base_loss: baseLoss, fine_tuned_loss: tunedLoss, relative_change: relative, warning: relative > FORGETTING_WARN_RISE }
}

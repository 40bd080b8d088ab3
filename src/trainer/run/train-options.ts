// The Trainer's options from the few settings a run chooses (method, epochs, learning rate, seed,
// LoRA shape); everything else keeps TRAIN_DEFAULTS. Shared by both command lines.
import type { GradientCheckpointing } from '../backend/memory-plan.ts'
import { defaultLoraTargets, type LoraOptions } from '../model/lora.ts'
import type { ModelConfig } from '../model/types.ts'
import type { TrainingMethod } from '../../protocol/auto-hyperparameters.ts'
import { TRAIN_DEFAULTS, type TrainOptions } from '../train/trainer.ts'
import type { EvaluationOptions } from '../train/evaluation-schedule.ts'

/** PEFT's customary LoRA shape; the targets default to every linear layer of the architecture. */
export const DEFAULT_LORA = { rank: 8, alpha: 16, dropout: 0.05 } as const

export interface RunSettings {
  method: TrainingMethod
  epochs: number
  learningRate: number
  seed: number
  gradAccumSteps?: number
  dpoBeta?: number
  checkpointEverySteps?: number
  lora?: Partial<LoraOptions>
  evaluation?: Partial<EvaluationOptions>
  gradientCheckpointing?: GradientCheckpointing
}

export function trainOptions(config: ModelConfig, s: RunSettings): TrainOptions {
  return {
    ...TRAIN_DEFAULTS,
    method: s.method,
    epochs: s.epochs,
    learningRate: s.learningRate,
    seed: s.seed,
    gradAccumSteps: s.gradAccumSteps ?? TRAIN_DEFAULTS.gradAccumSteps,
    dpoBeta: s.dpoBeta ?? TRAIN_DEFAULTS.dpoBeta,
    checkpointEverySteps: s.checkpointEverySteps ?? TRAIN_DEFAULTS.checkpointEverySteps,
    evaluation: { ...TRAIN_DEFAULTS.evaluation, ...s.evaluation },
    gradientCheckpointing: s.gradientCheckpointing ?? TRAIN_DEFAULTS.gradientCheckpointing,
    lora: {
      rank: s.lora?.rank ?? DEFAULT_LORA.rank,
      alpha: s.lora?.alpha ?? DEFAULT_LORA.alpha,
      dropout: s.lora?.dropout ?? DEFAULT_LORA.dropout,
      targetModules: s.lora?.targetModules ?? defaultLoraTargets(config),
      baseBits: s.lora?.baseBits ?? null,
    },
  }
}

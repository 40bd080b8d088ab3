// The training loop: epochs of micro-batches, gradient accumulation, clipping, AdamW, a
// learning-rate schedule, per-step metrics, validation on a schedule (evaluation-schedule.ts),
// checkpoints with their metrics, early stopping, the best checkpoint, and resume.
//
// Reproducibility: everything random (LoRA init, dropout masks) comes from one seeded
// Random whose state is checkpointed; batch order comes from the data source as a pure
// function of the epoch. Resuming from a checkpoint therefore replays exactly the steps an
// uninterrupted run would have taken, ending with bit-identical weights on the same backend.
import * as tf from '@tensorflow/tfjs-core'
import { type CheckpointingPlan, type GradientCheckpointing, planCheckpointing, planMemory, WASM_HEAP_BYTES } from '../backend/memory-plan.ts'
import { activeGpuLimits, throwIfGpuFailed } from '../backend/webgpu.ts'
import type { TokenBatch } from '../model/forward.ts'
import { LoraAdapters, type LoraOptions } from '../model/lora.ts'
import { Random } from '../model/random.ts'
import type { HostTensors, LoraAdapter, ModelConfig } from '../model/types.ts'
import { variableKey } from '../model/variable-names.ts'
import { ModelWeights } from '../model/weights.ts'
import { AdamW, type AdamWOptions } from './adamw.ts'
import type { TrainingMethod } from '../../protocol/auto-hyperparameters.ts'
import { type CheckpointState, readCheckpoint, writeCheckpoint } from './checkpoint-format.ts'
import type { CheckpointStore } from './checkpoint-store.ts'
import { clipByGlobalNorm } from './clip-gradients.ts'
import { afterCheckpoint, afterValidation, EVALUATION_DEFAULTS, type EvaluationOptions, type EvaluationState, INITIAL_EVALUATION_STATE, sampleBatches, validationInterval } from './evaluation-schedule.ts'
import { dpoLoss, type PreferenceBatch, referenceLogProbs } from './dpo-loss.ts'
import { learningRateAt, type LrSchedule } from './lr-schedule.ts'
import type { Reporter } from './reporter.ts'
import { sftEvaluation, sftLoss } from './sft-loss.ts'
import { selectTargets, type Targets } from './targets.ts'

/** A supervised micro-batch: token rows plus which tokens are targets. */
export interface SftBatch extends TokenBatch {
  lossMask: Int32Array
}

export type MicroBatch = SftBatch | PreferenceBatch

export interface TrainingData {
  /** The micro-batches of 0-based `epoch`, in order; a pure function of the epoch. */
  batches(epoch: number): MicroBatch[]
  validation?: MicroBatch[]
}

export interface TrainOptions {
  method: TrainingMethod
  epochs: number
  /** Micro-batches per optimizer step. */
  gradAccumSteps: number
  learningRate: number
  /** Fraction of all steps spent warming up (ignored when warmupSteps is given). */
  warmupRatio: number
  warmupSteps?: number
  decay: LrSchedule['decay']
  minLrRatio: number
  adamw: Partial<AdamWOptions>
  /** Global gradient-norm limit; 0 disables clipping. */
  maxGradNorm: number
  seed: number
  /** LoRA and DPO. */
  lora: LoraOptions
  dpoBeta: number
  /** Checkpoint every N optimizer steps (0 = only at epoch ends). */
  checkpointEverySteps: number
  /** Validation schedule, early stopping, the best checkpoint and which one the run ends with. */
  evaluation: EvaluationOptions
  /** Recompute each block in the backward pass instead of keeping its activations (memory-plan.ts's planCheckpointing). */
  gradientCheckpointing: GradientCheckpointing
}

export const TRAIN_DEFAULTS: Omit<TrainOptions, 'method' | 'lora'> = {
  epochs: 3,
  gradAccumSteps: 1,
  learningRate: 2e-4,
  warmupRatio: 0.03,
  decay: 'linear',
  minLrRatio: 0,
  adamw: {},
  maxGradNorm: 1,
  seed: 42,
  dpoBeta: 0.1,
  checkpointEverySteps: 0,
  evaluation: EVALUATION_DEFAULTS,
  gradientCheckpointing: 'auto',
}

export interface TrainResult {
  weights: ModelWeights
  /** The trained adapters (LoRA, DPO), or null for full fine-tuning. */
  lora: LoraAdapters | null
  steps: number
  finalTrainLoss: number
  /** Last validation metrics, when validation data was given. */
  validLoss: number | null
  validAccuracy: number | null
  /** True when `stopRequested` ended the run before its last step. */
  interrupted: boolean
  /** The best checkpoint by the chosen metric (null: no checkpoint had it, e.g. no validation data). */
  best: { step: number; metric: string; value: number } | null
  /** The step whose weights `weights`/`lora` hold: the best checkpoint's, or the last step's. */
  servedStep: number
  /** Set when early stopping ended the run: at which step, and why. */
  earlyStopped: { step: number; reason: string } | null
}

/** The weights a run has so far: what a checkpoint's model is exported from. */
export type TrainedWeights = Pick<TrainResult, 'weights' | 'lora'>

/**
 * Exports the model as it is at a checkpoint (an adapter, a GGUF) and returns what it wrote, for the
 * checkpoint's report. Runs after the checkpoint's training state is saved.
 */
export type ExportCheckpoint = (step: number, trained: TrainedWeights) => Promise<{ name: string; key: string }[]>

/**
 * Evaluates the model as it is at a checkpoint (e.g. its greedy answers, scored) and returns metrics
 * for the checkpoint, beside the spec's: reported with it, and choosable as the best-checkpoint metric.
 */
export type EvaluateCheckpoint = (step: number, trained: TrainedWeights) => Promise<Record<string, number>>

/**
 * Asked after every optimizer step whether to stop early: 'checkpoint' saves the current position
 * first (a pause, a node drain), 'discard' stops at once (the job was cancelled); null goes on.
 * It may be async: a step's awaits can all resolve as microtasks, so a caller with timers or
 * network I/O to serve (heartbeats, reports) yields to its event loop here.
 */
export type StopRequest = () => 'checkpoint' | 'discard' | null | Promise<'checkpoint' | 'discard' | null>

const isPreference = (b: MicroBatch): b is PreferenceBatch => 'pairs' in b

/** Real (non-padding) tokens in a batch: what tokens/s counts. */
function realTokens(b: TokenBatch): number {
  let n = 0
  for (let i = 0; i < b.attentionMask.length; i++) n += b.attentionMask[i]
  return n
}

/** Training diverged: the loss or the gradient norm of a step is NaN or infinite. Nothing was applied. */
export class NonFiniteTrainingError extends Error {
  readonly step: number
  readonly what: 'loss' | 'gradient'
  constructor(step: number, what: 'loss' | 'gradient', value: number, learningRate: number) {
    super(`training diverged at step ${step}: the ${what === 'loss' ? 'loss' : 'gradient norm'} is ${value} (learning rate ${learningRate}); ` +
      'lower learning_rate_multiplier, or check the data')
    this.name = 'NonFiniteTrainingError'
    this.step = step
    this.what = what
  }
}

export class Trainer {
  readonly weights: ModelWeights
  readonly lora: LoraAdapters | null
  private readonly options: TrainOptions
  private readonly data: TrainingData
  private readonly reporter: Reporter
  private readonly checkpoints: CheckpointStore | null
  private readonly stopRequested: StopRequest
  private readonly exportCheckpoint: ExportCheckpoint | null
  private readonly evaluateCheckpoint: EvaluateCheckpoint | null
  private readonly optimizer: AdamW
  private readonly params: tf.Variable[]
  /** The step's memory, planned once for the data's largest micro-batch: whether blocks are checkpointed. */
  private readonly memory: CheckpointingPlan
  private rng: Random
  private readonly stepsPerEpoch: number
  readonly totalSteps: number

  constructor(args: {
    config: ModelConfig
    weights: HostTensors
    data: TrainingData
    options: TrainOptions
    reporter: Reporter
    checkpoints?: CheckpointStore | null
    stopRequested?: StopRequest
    exportCheckpoint?: ExportCheckpoint
    evaluateCheckpoint?: EvaluateCheckpoint
    /** LoRA / DPO: start the adapters from these weights (a fine-tuned model's adapter) instead of zero. */
    initialAdapter?: LoraAdapter
  }) {
    const { options } = args
    const firstEpoch = args.data.batches(0)
    if (options.method === 'dpo' && firstEpoch.some((b) => !isPreference(b))) {
      throw new Error('DPO needs preference batches')
    }
    // On a GPU device, refuse shapes that would silently compute garbage (memory-plan.ts).
    const limits = activeGpuLimits()
    const all = [...firstEpoch, ...(args.data.validation ?? [])]
    const [maxRows, maxSeq] = [Math.max(1, ...all.map((b) => b.batchSize)), Math.max(1, ...all.map((b) => b.seqLen))]
    if (limits) planMemory(args.config, maxRows, maxSeq, limits, { method: options.method })
    // On wasm, every tensor shares one 4 GiB heap: checkpoint blocks when a step would not fit otherwise.
    const heap = tf.getBackend() === 'wasm' ? WASM_HEAP_BYTES : null
    this.memory = planCheckpointing(args.config, maxRows, maxSeq, options.method, options.gradientCheckpointing, heap)
    this.options = options
    this.data = args.data
    this.reporter = args.reporter
    this.checkpoints = args.checkpoints ?? null
    this.stopRequested = args.stopRequested ?? (() => null)
    this.exportCheckpoint = args.exportCheckpoint ?? null
    this.evaluateCheckpoint = args.evaluateCheckpoint ?? null
    this.rng = Random.fromSeed(options.seed)
    this.weights = ModelWeights.fromHost(args.config, args.weights, { trainable: options.method === 'full', quantise: options.method === 'full' ? null : options.lora.baseBits })
    // DPO trains adapters so that "adapters off" is the reference policy (see dpo-loss.ts).
    this.lora = options.method === 'full' ? null : LoraAdapters.create(this.weights, options.lora, this.rng)
    if (args.initialAdapter) {
      if (!this.lora) throw new Error('full fine-tuning cannot start from an adapter')
      this.lora.assign(args.initialAdapter)
    }
    this.params = this.lora ? this.lora.variables() : this.weights.variables()
    this.optimizer = new AdamW(options.adamw)
    this.stepsPerEpoch = Math.ceil(firstEpoch.length / options.gradAccumSteps)
    this.totalSteps = this.stepsPerEpoch * options.epochs
  }

  private schedule(): LrSchedule {
    const o = this.options
    return {
      peak: o.learningRate,
      totalSteps: this.totalSteps,
      warmupSteps: o.warmupSteps ?? Math.floor(o.warmupRatio * this.totalSteps),
      decay: o.decay,
      minRatio: o.minLrRatio,
    }
  }

  /** Targets (and, for DPO, reference log-probs) of one micro-batch: host data, no gradients. */
  private async prepare(batch: MicroBatch): Promise<{ batch: MicroBatch; targets: Targets; reference: Float32Array | null }> {
    const targets = selectTargets(batch)
    const reference = isPreference(batch) ? await referenceLogProbs(this.weights, this.lora!, batch, targets) : null
    return { batch, targets, reference }
  }

  /** One optimizer step over `micro`; returns what the step's report needs. */
  /** Whether training steps checkpoint blocks (forward.ts). */
  get checkpointBlocks(): boolean {
    return this.memory.checkpointBlocks
  }

  private async step(micro: MicroBatch[], lr: number): Promise<{ loss: number; correct: number; targets: number; gradNorm: number; margin: number | undefined }> {
    const prepared = []
    for (const b of micro) prepared.push(await this.prepare(b))
    const dpo = this.options.method === 'dpo'
    // SFT: mean over the step's target tokens. DPO: mean over the step's pairs.
    const normalizer = dpo
      ? prepared.reduce((n, p) => n + (p.batch as PreferenceBatch).pairs, 0)
      : prepared.reduce((n, p) => n + p.targets.rows.length, 0)
    if (normalizer === 0) throw new Error('an optimizer step has no loss targets (every loss mask is empty)')

    let grads: Map<string, tf.Tensor> | null = null
    let loss = 0
    let correct = 0
    let marginSum = 0
    for (const { batch, targets, reference } of prepared) {
      const dropoutSeed = this.rng.nextUint32() % 2147483647
      const kept: tf.Tensor[] = []
      const { value, grads: g } = tf.variableGrads(() => {
        if (dpo) {
          const r = dpoLoss(this.weights, this.lora!, batch as PreferenceBatch, targets, reference!,
            { beta: this.options.dpoBeta, normalizer, dropoutSeed, checkpointBlocks: this.checkpointBlocks })
          kept.push(r.correct, r.margins)
          return r.loss
        }
        const r = sftLoss(this.weights, this.lora, batch, targets, { normalizer, dropoutSeed, checkpointBlocks: this.checkpointBlocks })
        kept.push(r.correct)
        return r.loss
      }, this.params)
      loss += (await value.data())[0]
      correct += (await kept[0].data())[0]
      if (dpo) for (const m of await kept[1].data()) marginSum += m
      value.dispose()
      kept.forEach((t) => t.dispose())
      if (grads === null) {
        grads = new Map(Object.entries(g))
      } else {
        for (const [name, gi] of Object.entries(g)) {
          const prev = grads.get(name)!
          grads.set(name, tf.add(prev, gi))
          prev.dispose()
          gi.dispose()
        }
      }
    }
    const gradNorm = await clipByGlobalNorm(grads!, this.options.maxGradNorm)
    // A NaN or infinite loss or gradient would poison every weight it touches: stop before the update.
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      for (const g of grads!.values()) g.dispose()
      throw new NonFiniteTrainingError(this.optimizer.step + 1, !Number.isFinite(loss) ? 'loss' : 'gradient', !Number.isFinite(loss) ? loss : gradNorm, lr)
    }
    this.optimizer.apply(this.params, grads!, lr)
    for (const g of grads!.values()) g.dispose()
    // A GPU validation error or device loss during the step means its numbers are garbage.
    throwIfGpuFailed()
    const targetCount = prepared.reduce((n, p) => n + p.targets.rows.length, 0)
    return { loss, correct, targets: targetCount, gradNorm, margin: dpo ? marginSum / normalizer : undefined }
  }

  /** Validation loss and token accuracy (DPO: preference loss and pair accuracy). */
  async evaluate(batches: MicroBatch[]): Promise<{ loss: number; accuracy: number }> {
    let lossSum = 0
    let hits = 0
    let count = 0
    for (const batch of batches) {
      if (isPreference(batch)) {
        const { targets, reference } = await this.prepare(batch)
        const out = tf.tidy(() => {
          const r = dpoLoss(this.weights, this.lora!, batch, targets, reference!, { beta: this.options.dpoBeta, normalizer: 1, dropoutSeed: null })
          r.correct.dispose()
          const wins = tf.sum(tf.cast(tf.greater(r.margins, 0), 'float32'))
          r.margins.dispose()
          return tf.stack([r.loss, wins])
        })
        const [l, w] = await out.data()
        out.dispose()
        lossSum += l
        hits += w
        count += batch.pairs
      } else {
        const r = await sftEvaluation(this.weights, this.lora, batch)
        lossSum += r.lossSum
        hits += r.hits
        count += r.count
      }
    }
    throwIfGpuFailed()
    return { loss: count ? lossSum / count : NaN, accuracy: count ? hits / count : NaN }
  }

  private async saveCheckpoint(state: CheckpointState, metrics: Record<string, number>): Promise<void> {
    if (!this.checkpoints) return
    const files = await writeCheckpoint(state, this.params, this.optimizer)
    const location = await this.checkpoints.save(state.step, files)
    const artifacts = this.exportCheckpoint ? await this.exportCheckpoint(state.step, { weights: this.weights, lora: this.lora }) : undefined
    this.reporter.onCheckpoint({ step: state.step, epoch: state.epoch, location, metrics, ...(artifacts ? { artifacts } : {}) })
  }

  /**
   * Ends the run on the checkpoint it serves: the best one's weights replace the last step's, unless
   * the job asked for the last or the last is the best. Returns the step the weights are from.
   */
  private async restoreServed(step: number, evaluation: EvaluationState): Promise<number> {
    const best = evaluation.best
    if (this.options.evaluation.serve === 'last' || !best || best.step === step || !this.checkpoints) return step
    const stored = await this.checkpoints.load(best.step)
    if (!stored) {
      this.reporter.onEvent('warn', `the best checkpoint (step ${best.step}) is no longer stored: the model is the last step's (${step})`)
      return step
    }
    readCheckpoint(stored.files, this.params, this.optimizer)
    return best.step
  }

  /** Restores the newest checkpoint, if any; returns where to continue from. */
  private async resume(): Promise<CheckpointState | null> {
    const stored = await this.checkpoints?.latest()
    if (!stored) return null
    const state = readCheckpoint(stored.files, this.params, this.optimizer)
    if (state.method !== this.options.method) throw new Error(`checkpoint is for method ${state.method}, not ${this.options.method}`)
    this.rng = Random.fromState(state.rng)
    this.reporter.onEvent('info', `resumed from checkpoint at step ${state.step} (epoch ${state.epoch + 1}, batch ${state.nextBatch})`)
    return state
  }

  async run(): Promise<TrainResult> {
    const o = this.options
    const schedule = this.schedule()
    const resumed = await this.resume()
    let step = resumed?.step ?? 0
    let lastLoss = NaN
    let validLoss: number | null = null
    let validAccuracy: number | null = null
    let evaluation = resumed?.evaluation ?? INITIAL_EVALUATION_STATE
    let earlyStopped: TrainResult['earlyStopped'] = null
    const validation = this.data.validation ?? []
    const sample = sampleBatches(validation, (b) => (isPreference(b) ? b.pairs : b.batchSize))
    const every = validationInterval(o.evaluation.everySteps, this.totalSteps)
    this.reporter.onEvent('info', `training ${o.method}: ${this.params.length} trainable tensors, ` +
      `${this.params.reduce((n, p) => n + p.size, 0)} parameters, ${this.totalSteps} steps`)
    if (this.checkpointBlocks) {
      const gib = (b: number) => (b / 2 ** 30).toFixed(1)
      this.reporter.onEvent('info', `gradient checkpointing on (${o.gradientCheckpointing === 'on' ? 'requested' : 'chosen automatically'}): ` +
        `each block runs again in the backward pass; a step needs about ${gib(this.memory.peakBytes)} GiB instead of ${gib(this.memory.plainPeakBytes)} GiB`)
    }

    training: for (let epoch = resumed?.epoch ?? 0; epoch < o.epochs; epoch++) {
      const batches = this.data.batches(epoch)
      let next = epoch === resumed?.epoch ? resumed.nextBatch : 0
      while (next < batches.length) {
        const micro = batches.slice(next, next + o.gradAccumSteps)
        const started = performance.now()
        const lr = learningRateAt(schedule, step)
        const r = await this.step(micro, lr)
        const stepMs = performance.now() - started
        next += micro.length
        step += 1
        lastLoss = r.loss
        const tokens = micro.reduce((n, b) => n + realTokens(b), 0)
        const trainAccuracy = r.targets ? r.correct / r.targets : 0
        this.reporter.onStep({
          step, totalSteps: this.totalSteps, epoch: epoch + 1,
          trainLoss: r.loss, trainAccuracy,
          learningRate: lr, gradNorm: r.gradNorm, tokens: r.targets,
          tokensPerSec: tokens / (stepMs / 1000), stepMs,
          ...(r.margin !== undefined ? { rewardMargin: r.margin } : {}),
        })
        const endOfEpoch = next >= batches.length
        const position = endOfEpoch ? { epoch: epoch + 1, nextBatch: 0 } : { epoch, nextBatch: next }
        const stop = step < this.totalSteps ? await this.stopRequested() : null
        let checkpoint = endOfEpoch || (o.checkpointEverySteps > 0 && step % o.checkpointEverySteps === 0) || stop === 'checkpoint'
        // A checkpoint's metrics, by OpenAI's names; non-finite numbers are left out (they would be null in JSON).
        const metrics: Record<string, number> = {}
        const put = (name: string, v: number) => { if (Number.isFinite(v)) metrics[name] = v }
        put('train_loss', r.loss)
        put('train_mean_token_accuracy', trainAccuracy)
        if (sample.length > 0 && stop !== 'discard' && (checkpoint || step % every === 0 || step === this.totalSteps)) {
          const v = await this.evaluate(sample)
          validLoss = v.loss
          validAccuracy = v.accuracy
          put('valid_loss', v.loss)
          put('valid_mean_token_accuracy', v.accuracy)
          const decided = afterValidation(evaluation, v.loss, o.evaluation.earlyStopping)
          evaluation = decided.state
          if (o.evaluation.earlyStopping) {
            // Each improvement is a checkpoint, so the best point can be served.
            if (decided.improved) checkpoint = true
            if (decided.stop && step < this.totalSteps) {
              const { patience, minDelta } = o.evaluation.earlyStopping
              earlyStopped = { step, reason: `the validation loss has not improved by more than ${minDelta} for ${patience} validation point${patience === 1 ? '' : 's'} ` +
                `(lowest ${evaluation.lowestValidLoss!.toFixed(4)}, now ${v.loss.toFixed(4)})` }
              checkpoint = true
            }
          }
          const full = checkpoint ? (sample.length === validation.length ? v : await this.evaluate(validation)) : null
          if (full) {
            put('full_valid_loss', full.loss)
            put('full_valid_mean_token_accuracy', full.accuracy)
          }
          this.reporter.onEval({ step, epoch: epoch + 1, validLoss: v.loss, validAccuracy: v.accuracy, ...(full ? { fullValidLoss: full.loss, fullValidAccuracy: full.accuracy } : {}) })
        }
        if (checkpoint && this.checkpoints) {
          if (this.evaluateCheckpoint) {
            for (const [name, v] of Object.entries(await this.evaluateCheckpoint(step, { weights: this.weights, lora: this.lora }))) put(name, v)
          }
          evaluation = afterCheckpoint(evaluation, step, metrics, o.evaluation.bestMetric)
          await this.saveCheckpoint({ format: 1, method: o.method, step, ...position, rng: this.rng.state(), adamStep: this.optimizer.step, evaluation }, metrics)
        }
        if (earlyStopped) {
          this.reporter.onEvent('info', `stopped early at step ${step} of ${this.totalSteps}: ${earlyStopped.reason}`)
          break training
        }
        if (stop) return { weights: this.weights, lora: this.lora, steps: step, finalTrainLoss: lastLoss, validLoss, validAccuracy, interrupted: true, best: null, servedStep: step, earlyStopped: null }
      }
    }
    const best = evaluation.best ? { ...evaluation.best, metric: o.evaluation.bestMetric } : null
    const servedStep = await this.restoreServed(step, evaluation)
    return { weights: this.weights, lora: this.lora, steps: step, finalTrainLoss: lastLoss, validLoss, validAccuracy, interrupted: false, best, servedStep, earlyStopped }
  }

  /** Trainable tensors by stable key (for comparing runs and for exports). */
  async trainableHost(): Promise<HostTensors> {
    const out: HostTensors = new Map()
    for (const p of this.params) out.set(variableKey(p.name), { shape: p.shape.slice(), data: (await p.data()) as Float32Array })
    return out
  }

  dispose(): void {
    this.optimizer.dispose()
    this.lora?.dispose()
    this.weights.dispose()
  }
}

// Will a model and batch shape run correctly on a GPU device? Checked before the first step.
//
// Two silent failures of WebGPU are ruled out here, where they can be explained, instead of
// being discovered as a wrong loss:
//  - a tensor larger than the device's maxStorageBufferBindingSize cannot be bound by a kernel:
//    the kernel fails validation and its output reads as zeros or stale data. Every weight,
//    gradient, optimizer moment, activation and chunk of logits must fit one binding;
//  - tfjs-backend-webgpu reads int32 tensors through f32 in its shaders (gather indices,
//    segment ids, one-hot labels), and f32 holds integers exactly only up to 2^24. Token ids and
//    row indices at or above that would pick the wrong row. Only f32 exists on this backend.
// Pure: plain numbers in, a plan or an error out.
import type { ModelConfig } from '../model/types.ts'

/** Integers an f32 represents exactly: [0, 2^24]. */
export const F32_EXACT_INTEGER_LIMIT = 2 ** 24

/** Aim for at most this many logits (floats) per loss chunk, whatever the device: 16M floats = 64 MiB. */
export const LOGITS_PER_CHUNK = 16 * 1024 * 1024

const BYTES_PER_FLOAT = 4

export interface PlannedTensor {
  what: string
  shape: number[]
  bytes: number
}

export interface MemoryPlan {
  /** Every distinct tensor shape the step creates that could be large, biggest first. */
  tensors: PlannedTensor[]
  /** Rows of logits per loss chunk (see token-log-probs.ts). */
  logitsChunkRows: number
  /** Bytes the model's parameters, gradients and optimizer moments hold at once (estimate). */
  persistentBytes: number
}

export interface PlanOptions {
  /** Full fine-tuning keeps a gradient and two AdamW moments per weight. */
  method: 'lora' | 'full' | 'dpo'
  /** Check int32 values against 2^24 (default true; false only to show the trap in tests). */
  checkIndices?: boolean
}

/** The device facts the plan needs. */
export interface BindingLimits {
  maxStorageBufferBindingSize: number
}

/** Rows per chunk so that one chunk of [rows, vocab] logits stays under both targets. */
export function logitsChunkRows(vocabSize: number, maxBindingBytes = Infinity): number {
  const floats = Math.min(LOGITS_PER_CHUNK, Math.floor(maxBindingBytes / BYTES_PER_FLOAT))
  return Math.max(1, Math.floor(floats / vocabSize))
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

interface WeightShape {
  what: string
  shape: number[]
  /** How many tensors of this shape the model holds. */
  copies: number
}

/** The weights, in the layout ModelWeights keeps them ([in, out] projections). */
function weightShapes(c: ModelConfig): WeightShape[] {
  const D = c.hiddenSize, I = c.intermediateSize, V = c.vocabSize, L = c.numLayers
  const q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim
  // An untied head is stored [D, V]; a tied one is also materialised [D, V] for the logits.
  const globals: WeightShape[] = [{ what: 'token embedding', shape: [V, D], copies: 1 }, { what: 'output head', shape: [D, V], copies: 1 }]
  if (c.architecture === 'gpt2') {
    return [...globals, { what: 'position embedding', shape: [c.maxPositions, D], copies: 1 },
      { what: 'attn.c_attn', shape: [D, 3 * D], copies: L }, { what: 'attn.c_proj', shape: [D, D], copies: L },
      { what: 'mlp.c_fc', shape: [D, I], copies: L }, { what: 'mlp.c_proj', shape: [I, D], copies: L }]
  }
  if (c.architecture === 'phi3') {
    return [...globals, { what: 'qkv_proj', shape: [D, q + 2 * kv], copies: L }, { what: 'o_proj', shape: [q, D], copies: L },
      { what: 'gate_up_proj', shape: [D, 2 * I], copies: L }, { what: 'down_proj', shape: [I, D], copies: L }]
  }
  return [...globals, { what: 'q_proj', shape: [D, q], copies: L }, { what: 'k_proj / v_proj', shape: [D, kv], copies: 2 * L },
    { what: 'o_proj', shape: [q, D], copies: L }, { what: 'gate_proj / up_proj', shape: [D, I], copies: 2 * L },
    { what: 'down_proj', shape: [I, D], copies: L }]
}

/** Activations of one micro-batch of `batchSize` rows of `seqLen` tokens, forward or backward. */
function activationShapes(c: ModelConfig, B: number, T: number, chunkRows: number): [string, number[]][] {
  const N = B * T
  const D = c.hiddenSize, I = c.intermediateSize
  const q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim
  return [
    ['hidden states', [N, D]],
    ['queries', [N, q]],
    ['keys / values', [N, kv]],
    ...(c.architecture === 'gpt2' ? [['packed q/k/v', [N, 3 * D]] as [string, number[]]] : []),
    ...(c.architecture === 'phi3' ? [['packed q/k/v', [N, q + 2 * kv]], ['packed gate/up', [N, 2 * I]]] as [string, number[]][] : []),
    ['attention scores', [B, c.numHeads, T, T]],
    ['MLP activations', [N, I]],
    ['logits chunk', [Math.min(chunkRows, N), c.vocabSize]],
  ]
}

/**
 * Checks that a training step of `batchSize` × `seqLen` tokens fits a device; throws one error
 * naming every tensor that does not, and every index that f32 cannot hold.
 */
export function planMemory(config: ModelConfig, batchSize: number, seqLen: number, limits: BindingLimits, options: PlanOptions): MemoryPlan {
  const maxBinding = limits.maxStorageBufferBindingSize
  const chunkRows = logitsChunkRows(config.vocabSize, maxBinding)
  const tensors: PlannedTensor[] = [
    ...weightShapes(config).map(({ what, shape }) => ({ what: `weight ${what}`, shape, bytes: size(shape) * BYTES_PER_FLOAT })),
    ...activationShapes(config, batchSize, seqLen, chunkRows).map(([what, shape]) => ({ what, shape, bytes: size(shape) * BYTES_PER_FLOAT })),
  ].sort((a, b) => b.bytes - a.bytes)

  const problems: string[] = []
  for (const t of tensors) {
    if (t.bytes > maxBinding) problems.push(`${t.what} [${t.shape.join(', ')}] is ${mib(t.bytes)}`)
  }
  if (options.checkIndices ?? true) {
    // Token ids index the embedding; row indices pick target positions out of [batch·seq] rows.
    if (config.vocabSize > F32_EXACT_INTEGER_LIMIT) problems.push(`vocabulary of ${config.vocabSize} tokens: ids above 2^24 are not exact in f32`)
    if (batchSize * seqLen > F32_EXACT_INTEGER_LIMIT) problems.push(`${batchSize * seqLen} tokens per micro-batch: row indices above 2^24 are not exact in f32`)
  }
  if (problems.length) {
    throw new Error(`this model and batch do not fit the GPU device (storage binding limit ${mib(maxBinding)}): ` +
      `${problems.join('; ')}. Use a smaller batch or sequence length, a smaller model, or another backend.`)
  }

  const weightsBytes = weightShapes(config).reduce((n, w) => n + w.copies * size(w.shape), 0) * BYTES_PER_FLOAT
  // Full fine-tuning: each weight has a gradient and two AdamW moments beside it.
  const persistentBytes = options.method === 'full' ? 4 * weightsBytes : weightsBytes
  return { tensors, logitsChunkRows: chunkRows, persistentBytes }
}

/** The wasm backend's heap: wasm32 addresses 4 GiB, and tfjs's wasm module aborts past it. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30

/** SKILLET_TRAINER_GRADIENT_CHECKPOINTING: 'auto' checkpoints when the step would not fit the heap otherwise. */
export const GRADIENT_CHECKPOINTING_SETTINGS = ['auto', 'on', 'off'] as const
export type GradientCheckpointing = (typeof GRADIENT_CHECKPOINTING_SETTINGS)[number]

/**
 * Bytes one block keeps alive until a step's backward pass ends, per micro-batch, without
 * checkpointing: what its ops saved and every gradient tfjs computed through it (its backward
 * pass frees nothing before the end). Fitted to tfjs's peak bytes of LoRA steps on the wasm
 * backend (SmolLM2-135M's widths D 576, I 1536, 9 heads, seq 256–512, and I, heads doubled):
 * ≈110 floats per token per unit of width, 25 per unit of MLP width, 12 per attention score.
 * It errs on the high side (by 2–7% on those shapes).
 */
export function blockActivationBytes(c: ModelConfig, batchSize: number, seqLen: number): number {
  return BYTES_PER_FLOAT * batchSize * seqLen * (110 * c.hiddenSize + 25 * c.intermediateSize + 12 * c.numHeads * seqLen)
}

/**
 * A checkpointed step's heap grows past the activations it holds (freed blocks it cannot reuse at
 * once): SmolLM2-135M's shape at batch 1 × 512 holds ≈0.65 GB of weights and ≈0.55 GB of estimated
 * activations and logits, and grew its heap to 1.5 GB.
 */
const HEAP_SLACK = 1.5

/**
 * Heap bytes full fine-tuning takes per byte of weights, activations aside: a gradient and two AdamW
 * moments beside each weight (4×), and the update's temporaries and the allocator's fragmentation on
 * top — SmolLM2-135M's shape (0.54 GB of weights) grew the heap to 3.95 GiB at 64 tokens a step,
 * with 1.5 GB of live tensors between steps: ≈5.7× its weights beyond the activations' estimate. At
 * 512 tokens, checkpointed, it aborted in its fourth step at 4 GiB.
 */
const FULL_FINE_TUNING_HEAP_PER_WEIGHT_BYTE = 6.5

/** A training step cannot fit the backend's memory: the same job would fail the same way again. */
export class TrainingMemoryError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TrainingMemoryError'
  }
}

export interface CheckpointingPlan {
  checkpointBlocks: boolean
  /** Estimated peak bytes of a step as planned. */
  peakBytes: number
  /** Estimated peak bytes without checkpointing. */
  plainPeakBytes: number
}

/**
 * Whether to checkpoint blocks (forward.ts) for micro-batches of `batchSize` × `seqLen` tokens,
 * on a backend whose tensors share a heap of `heapBytes` (null: no known limit, e.g. a GPU;
 * 'auto' then means off). 'auto' checkpoints when the plain step's estimate (weights, optimizer
 * state, activations) passes 3/4 of the heap. Throws when even a checkpointed step
 * cannot fit, instead of letting the wasm module abort mid-step.
 */
export function planCheckpointing(config: ModelConfig, batchSize: number, seqLen: number, method: PlanOptions['method'],
  setting: GradientCheckpointing, heapBytes: number | null): CheckpointingPlan {
  // A tied head is the embedding itself when it trains; a frozen one is kept transposed beside it.
  const shapes = weightShapes(config).filter((w) => !(method === 'full' && config.tieWordEmbeddings && w.what === 'output head'))
  const weightsBytes = shapes.reduce((n, w) => n + w.copies * size(w.shape), 0) * BYTES_PER_FLOAT
  const persistent = method === 'full' ? FULL_FINE_TUNING_HEAP_PER_WEIGHT_BYTE * weightsBytes : weightsBytes
  // DPO runs chosen and rejected rows of each pair together: batchSize counts both.
  const block = blockActivationBytes(config, batchSize, seqLen)
  const logits = 3 * Math.min(LOGITS_PER_CHUNK, batchSize * seqLen * config.vocabSize) * BYTES_PER_FLOAT
  // The per-block figure errs on the high side already (see blockActivationBytes); measured heaps of
  // plain steps stayed under it.
  const plainPeakBytes = persistent + config.numLayers * block + logits
  // Checkpointed: every block's input, and one block's activations while it runs again.
  const checkpointedPeakBytes = persistent + HEAP_SLACK * (config.numLayers * BYTES_PER_FLOAT * batchSize * seqLen * config.hiddenSize + block + logits)
  const checkpointBlocks = setting === 'on' || (setting === 'auto' && heapBytes !== null && plainPeakBytes > 0.75 * heapBytes)
  const peakBytes = checkpointBlocks ? checkpointedPeakBytes : plainPeakBytes
  if (heapBytes !== null && peakBytes > heapBytes) {
    // Rounded up, so that the need never reads as the heap's size.
    const gib = (b: number) => `${Math.ceil((b / 2 ** 30) * 10) / 10} GiB`
    throw new TrainingMemoryError(`a training step of ${batchSize} × ${seqLen} tokens on this model needs about ${gib(peakBytes)}` +
      `${checkpointBlocks ? ' even with gradient checkpointing' : ' (gradient checkpointing is off)'}, more than the ${gib(heapBytes)} the wasm backend can address` +
      `${!checkpointBlocks && checkpointedPeakBytes <= heapBytes ? '; set SKILLET_TRAINER_GRADIENT_CHECKPOINTING to auto or on' : ''}. ` +
      'Use a smaller batch_size or shorter examples, a smaller model, LoRA instead of full fine-tuning, or a GPU backend.')
  }
  return { checkpointBlocks, peakBytes, plainPeakBytes }
}

/** SKILLET_TRAINER_GRADIENT_CHECKPOINTING: '', undefined and 'auto' mean auto; also on/off, true/false, 1/0. */
export function parseGradientCheckpointing(value: string | undefined): GradientCheckpointing {
  const v = (value ?? '').trim().toLowerCase()
  if (v === '' || v === 'auto') return 'auto'
  if (['on', 'true', '1', 'yes'].includes(v)) return 'on'
  if (['off', 'false', '0', 'no'].includes(v)) return 'off'
  throw new Error(`SKILLET_TRAINER_GRADIENT_CHECKPOINTING must be auto, on or off (got "${value}")`)
}

// What a training checkpoint holds and how it is laid out as files:
//   state.json           — step, data position (epoch, next micro-batch), RNG state, optimizer step,
//                          evaluation bookkeeping (best checkpoint, early stopping)
//   tensors.safetensors  — trainable tensors ("param/<key>") and AdamW moments ("adam_m/<key>",
//                          "adam_v/<key>"), float32, so a restore is exact
// Keys are the variables' stable keys (lora/<module>/A, w/<hf name>), not tfjs's unique names.
import * as tf from '@tensorflow/tfjs-core'
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.ts'
import type { RandomState } from '../model/random.ts'
import type { HostTensors } from '../model/types.ts'
import { variableKey } from '../model/variable-names.ts'
import type { AdamW } from './adamw.ts'
import type { TrainingMethod } from '../../protocol/auto-hyperparameters.ts'
import type { EvaluationState } from './evaluation-schedule.ts'

export interface CheckpointState {
  format: 1
  method: TrainingMethod
  /** Optimizer steps completed. */
  step: number
  /** 0-based epoch to continue in, and the index of its next micro-batch. */
  epoch: number
  nextBatch: number
  rng: RandomState
  adamStep: number
  /** Early stopping and best-checkpoint bookkeeping (absent in checkpoints from before it existed). */
  evaluation?: EvaluationState
}

const STATE_FILE = 'state.json'
const TENSOR_FILE = 'tensors.safetensors'

async function host(t: tf.Tensor): Promise<{ shape: number[]; data: Float32Array }> {
  return { shape: t.shape.slice(), data: (await t.data()) as Float32Array }
}

export async function writeCheckpoint(state: CheckpointState, params: tf.Variable[], optimizer: AdamW): Promise<Map<string, Uint8Array>> {
  const tensors: HostTensors = new Map()
  for (const p of params) {
    const key = variableKey(p.name)
    const { m, v } = optimizer.moments(p)
    tensors.set(`param/${key}`, await host(p))
    tensors.set(`adam_m/${key}`, await host(m))
    tensors.set(`adam_v/${key}`, await host(v))
  }
  return new Map([
    [STATE_FILE, new TextEncoder().encode(JSON.stringify(state))],
    [TENSOR_FILE, encodeSafetensors(tensors)],
  ])
}

/** Assigns the checkpoint's tensors to `params` and the optimizer; returns its state. */
export function readCheckpoint(files: Map<string, Uint8Array>, params: tf.Variable[], optimizer: AdamW): CheckpointState {
  const stateBytes = files.get(STATE_FILE)
  const tensorBytes = files.get(TENSOR_FILE)
  if (!stateBytes || !tensorBytes) throw new Error('checkpoint is missing state.json or tensors.safetensors')
  const state = JSON.parse(new TextDecoder().decode(stateBytes)) as CheckpointState
  if (state.format !== 1) throw new Error(`unknown checkpoint format ${String(state.format)}`)
  const { tensors } = decodeSafetensors(tensorBytes)
  const assign = (target: tf.Variable, name: string) => {
    const t = tensors.get(name)
    if (!t) throw new Error(`checkpoint has no tensor ${name}`)
    if (t.shape.join(',') !== target.shape.join(',')) throw new Error(`checkpoint tensor ${name} is [${t.shape}], expected [${target.shape}]`)
    const value = tf.tensor(t.data, t.shape, 'float32')
    target.assign(value)
    value.dispose()
  }
  for (const p of params) {
    const key = variableKey(p.name)
    const { m, v } = optimizer.moments(p)
    assign(p, `param/${key}`)
    assign(m, `adam_m/${key}`)
    assign(v, `adam_v/${key}`)
  }
  optimizer.step = state.adamStep
  return state
}

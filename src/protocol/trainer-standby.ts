// The contract between the local executor and a standby trainer (its warm start): a trainer
// started ahead of its job, with a trainer's environment minus the job and STANDBY_ENV set, and an
// IPC channel (child_process 'ipc'). It loads what does not depend on the job (the trainer's
// modules, the TensorFlow.js backend), sends `ready`, then waits for one `job` message: the
// variables a cold trainer would have found in its environment (TRAINER_ENV: spec, token, callback
// URL). From then on it is the same trainer as a cold one.
import { TRAINER_ENV } from './trainer-env.ts'

/** Set (to '1') in a standby trainer's environment: wait for the job on the IPC channel. */
export const STANDBY_ENV = 'SKILLET_JOB_VIA_IPC'

/** Standby → executor: warmed up, waiting for its job. */
export interface StandbyReadyMessage {
  type: 'ready'
}

/** Executor → standby: the job, as the environment variables a cold trainer gets. */
export interface StandbyJobMessage {
  type: 'job'
  env: Record<(typeof TRAINER_ENV)[keyof typeof TRAINER_ENV], string>
}

const JOB_VARS = Object.values(TRAINER_ENV)

export const isReadyMessage = (m: unknown): m is StandbyReadyMessage => (m as StandbyReadyMessage | null)?.type === 'ready'

export function isJobMessage(m: unknown): m is StandbyJobMessage {
  const env = (m as StandbyJobMessage | null)?.env
  return (m as StandbyJobMessage | null)?.type === 'job' && typeof env === 'object' && env !== null && JOB_VARS.every((name) => typeof env[name] === 'string')
}

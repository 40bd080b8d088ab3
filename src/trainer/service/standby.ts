// A standby trainer's wait for its job (src/protocol/trainer-standby.ts): it initialises the
// TensorFlow.js backend with the settings it was started with (the modules were loaded by the
// import of the trainer process), says it is ready on the IPC channel, and resolves with the job's
// environment variables when they arrive. It exits when the channel closes first (its server is
// gone, or the executor let it go).
import { isJobMessage, type StandbyJobMessage, type StandbyReadyMessage } from '../../protocol/trainer-standby.ts'
import { selectBackend } from '../backend/select-backend.ts'
import { TRAINER_EXIT } from './exit-codes.ts'
import type { TrainerConfig } from './trainer-config.ts'

/** The backend the job will select (run-job.ts selects again: already initialised, it is quick). A failure is left for the job to report. */
async function warmUp(backend: TrainerConfig['backend'] | null, log: (line: string) => void): Promise<void> {
  if (!backend) return
  await selectBackend(backend.requested, () => {}, { requireGpu: backend.requireGpu, threads: backend.threads }).catch((err: Error) =>
    log(`standby: the backend did not initialise (${err.message}); the job will report it`))
}

export async function waitForJob(backend: TrainerConfig['backend'] | null, log: (line: string) => void): Promise<StandbyJobMessage['env']> {
  const send = process.send?.bind(process)
  if (!send) {
    log(`standby: no IPC channel to receive the job on`)
    process.exit(TRAINER_EXIT.badInput)
  }
  await warmUp(backend, log)
  const job = new Promise<StandbyJobMessage['env']>((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isJobMessage(message)) return log(`standby: ignored a message that is not a job`)
      process.off('message', onMessage)
      process.off('disconnect', onDisconnect)
      process.disconnect?.()
      resolve(message.env)
    }
    const onDisconnect = () => process.exit(TRAINER_EXIT.orphaned)
    process.on('message', onMessage)
    process.once('disconnect', onDisconnect)
  })
  send({ type: 'ready' } satisfies StandbyReadyMessage)
  return job
}

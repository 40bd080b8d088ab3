// The trainer process the executors run for one job attempt (local child process, Kubernetes Job),
// started by src/cli/trainer.ts:
//
//   SKILLET_JOB_SPEC=… SKILLET_JOB_TOKEN=… node src/cli/trainer.ts
//
// or, as the local executor's standby (warm start, src/protocol/trainer-standby.ts), with
// SKILLET_JOB_VIA_IPC=1 and an IPC channel: it initialises its backend, then waits for the job's
// spec, token and callback URL on the channel, and runs it as above.
//
// Settings come from the environment (src/trainer/service/trainer-config.ts); the work is
// src/trainer/service/run-job.ts. Exit codes (src/trainer/service/exit-codes.ts):
//   0    the job succeeded, was paused (after a checkpoint) or no longer needs this trainer
//   1    the attempt failed (reported to the API when it could be); a retry might succeed
//   2    bad input: an invalid spec or setting, an unloadable base model, unusable training
//        data. Retrying cannot help; the Kubernetes podFailurePolicy fails the Job at once on it
//        (DEFAULT_BAD_INPUT_EXIT_CODE in src/config/kubernetes-executor-config.ts)
//   70   the server that launched this trainer (SKILLET_PARENT_PID) is gone
//   143  stopped by SIGTERM without a pause or cancel from the API (a node drain): progress up to
//        the last step was checkpointed and the next attempt resumes from it
// SIGTERM while the user pauses: checkpoint, report paused, exit 0. While the job is cancelled: exit 0 at once.
import { TrainerClient, TrainerProtocolError } from '../trainer/service/trainer-client.ts'
import { TRAINER_EXIT } from '../trainer/service/exit-codes.ts'
import { runJob } from '../trainer/service/run-job.ts'
import { StopSignal } from '../trainer/service/stop-signal.ts'
import { loadStandbySettings, loadTrainerConfig, TrainerConfigError, type TrainerConfig } from '../trainer/service/trainer-config.ts'
import { waitForJob } from '../trainer/service/standby.ts'
import { STANDBY_ENV } from '../protocol/trainer-standby.ts'

const EXIT = TRAINER_EXIT

const log = (line: string) => process.stderr.write(`${line}\n`)

function exitWithParent(parentPid: number | null): void {
  if (!parentPid) return
  const timer = setInterval(() => {
    if (process.ppid !== parentPid) process.exit(EXIT.orphaned)
  }, 500)
  timer.unref()
}

/** SIGTERM: ask the API why (quickly); a cancel exits now, a pause or a drain checkpoints first. */
function onSigterm(config: TrainerConfig, stop: StopSignal): void {
  const quick = new TrainerClient({ callbackUrl: config.callbackUrl, jobId: config.spec.jobId, token: config.token, retry: { maxElapsedMs: 2000, initialDelayMs: 100 } })
  process.on('SIGTERM', () => {
    quick
      .state()
      .then((state) => stop.fromJobState(state.stop), (err: Error) => {
        if (err instanceof TrainerProtocolError && err.shouldStop) stop.request('cancel')
      })
      .finally(() => {
        if (stop.reason === 'cancel') process.exit(EXIT.ok)
        stop.request('terminate')
      })
  })
}

async function main(): Promise<number> {
  let env: NodeJS.ProcessEnv = process.env
  /** When the job reached this process (process.uptime()): 0 when the process was started for it. */
  let jobArrived = 0
  const standby = process.env[STANDBY_ENV] === '1'
  if (standby) {
    const settings = loadStandbySettings(process.env)
    exitWithParent(settings.parentPid)
    env = { ...process.env, ...(await waitForJob(settings.backend, log)) }
    jobArrived = process.uptime()
  }
  let config: TrainerConfig
  try {
    config = loadTrainerConfig(env)
  } catch (err) {
    if (err instanceof TrainerConfigError) {
      log(err.message)
      return EXIT.badInput
    }
    throw err
  }
  if (!standby) exitWithParent(config.parentPid)
  const stop = new StopSignal()
  onSigterm(config, stop)
  const outcome = await runJob(config, stop, log, jobArrived)
  switch (outcome.kind) {
    case 'succeeded':
      log(`job ${config.spec.jobId} succeeded`)
      return EXIT.ok
    case 'paused':
      log(`job ${config.spec.jobId} paused at step ${outcome.step}`)
      return EXIT.ok
    case 'stopped':
      log(`job ${config.spec.jobId}: stopping, ${outcome.why}`)
      return EXIT.ok
    case 'terminated':
      log(`job ${config.spec.jobId}: terminated at step ${outcome.step}, checkpointed`)
      return EXIT.terminated
    case 'failed':
      log(`job ${config.spec.jobId} failed: ${outcome.message}`)
      return outcome.badInput ? EXIT.badInput : EXIT.failed
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`trainer: ${(err as Error).stack ?? String(err)}`)
    process.exit(EXIT.failed)
  },
)

// decide() as a table: every job status × every observed phase, from both sources, written out
// independently of the implementation.
import t from 'tap'
import { JOB_STATUSES } from '../../../src/jobs/state-machine.ts'
import type { JobRow } from '../../../src/jobs/job-object.ts'
import type { ExecutionObservation, ExecutionPhase } from '../../../src/running/executor/executor.ts'
import { decide, LAUNCH_GRACE_SECONDS } from '../../../src/running/scheduler/decide.ts'

const NOW = 1_800_000_000
const row = (status: string, heartbeatAt: number | null = NOW - 3600) => ({ id: 'ftjob-1', projectId: 'proj_1', status, heartbeatAt }) as unknown as JobRow

const PHASES: ExecutionPhase[] = ['pending', 'running', 'succeeded', 'failed', 'gone']
const ACTIVE = new Set(['running', 'pausing'])

/** The expected action for a status and phase, long after the last heartbeat. */
function expected(status: string, phase: ExecutionPhase): string {
  const alive = phase === 'pending' || phase === 'running'
  if (!ACTIVE.has(status)) return alive ? 'stop_trainer' : 'none'
  return { pending: 'none', running: 'none', succeeded: 'fail', failed: 'fail', gone: 'retry' }[phase]
}

t.test('every status × phase, from both sources', async (t) => {
  let checked = 0
  for (const status of JOB_STATUSES) {
    for (const phase of PHASES) {
      for (const source of ['launched', 'pushed'] as const) {
        const seen: ExecutionObservation = phase === 'failed' ? { phase, reason: 'exit_code', message: 'the trainer exited with code 1' } : { phase }
        t.equal(decide(row(status), seen, NOW, { source }).action, expected(status, phase), `${status} + ${phase} (${source})`)
        checked++
      }
    }
  }
  t.equal(checked, JOB_STATUSES.length * PHASES.length * 2)
})

t.test('a job the database does not know: nothing to do', async (t) => {
  for (const phase of PHASES) t.same(decide(undefined, { phase }, NOW, { source: 'pushed' }), { action: 'none' }, phase)
})

t.test('gone: a pushed observation waits out the launch grace, the launcher does not', async (t) => {
  const fresh = row('running', NOW - LAUNCH_GRACE_SECONDS + 1)
  t.same(decide(fresh, { phase: 'gone' }, NOW, { source: 'pushed' }), { action: 'none' }, 'within the grace: maybe launching elsewhere')
  t.same(decide(fresh, { phase: 'gone' }, NOW, { source: 'launched' }), { action: 'retry', why: 'The trainer is gone (its process or pod no longer exists)' })
  t.equal(decide(row('running', NOW - LAUNCH_GRACE_SECONDS), { phase: 'gone' }, NOW, { source: 'pushed' }).action, 'retry', 'grace over')
  t.equal(decide(row('running', null), { phase: 'gone' }, NOW, { source: 'pushed' }).action, 'retry', 'no heartbeat ever')
})

t.test('failures carry the job error, and stop a trainer that would linger', async (t) => {
  t.same(decide(row('running'), { phase: 'failed', reason: 'oom_killed', message: 'limit 8Gi' }, NOW, { source: 'pushed' }), {
    action: 'fail',
    code: 'out_of_memory',
    message: 'The trainer ran out of memory (OOMKilled): limit 8Gi.',
    stopTrainer: false,
  })
  t.same(decide(row('pausing'), { phase: 'failed', reason: 'image_pull', message: 'ErrImagePull' }, NOW, { source: 'launched' }), {
    action: 'fail',
    code: 'trainer_image_unavailable',
    message: 'The trainer could not start because its image could not be pulled: ErrImagePull.',
    stopTrainer: true,
  })
  t.same(decide(row('running'), { phase: 'succeeded' }, NOW, { source: 'launched' }), {
    action: 'fail',
    code: 'trainer_failed',
    message: 'The trainer exited without reporting a result.',
    stopTrainer: false,
  })
})

t.test('a replaced pod is a notice, keyed by its message so it is recorded once', async (t) => {
  const seen: ExecutionObservation = { phase: 'pending', message: 'previous pod was evicted: node drained' }
  const a = decide(row('running'), seen, NOW, { source: 'pushed' })
  t.equal(a.action, 'notice')
  if (a.action !== 'notice') return
  t.match(a.message, /^The trainer's pod was evicted; Kubernetes is starting a new one/)
  t.match(a.idempotencyKey, /^runtime:[0-9a-f]{16}$/)
  t.same(decide(row('pausing'), seen, NOW, { source: 'launched' }), a, 'the same key for the same message')
  t.equal(decide(row('cancelled'), seen, NOW, { source: 'pushed' }).action, 'stop_trainer', 'but a job that is over gets its trainer stopped')
})

t.test('a trainer killed by a signal is lost, not wrong: retried, failing as out_of_memory when that is likely', async (t) => {
  const killed: ExecutionObservation = { phase: 'failed', reason: 'killed_by_signal', message: 'The trainer was killed by SIGKILL.' }
  t.same(decide(row('running'), killed, NOW, { source: 'launched' }), { action: 'retry', why: 'The trainer was killed by SIGKILL', exhaustedCode: 'trainer_lost' })
  t.same(decide(row('pausing'), { ...killed, outOfMemoryLikely: true }, NOW, { source: 'pushed' }), { action: 'retry', why: 'The trainer was killed by SIGKILL', exhaustedCode: 'out_of_memory' })
  t.equal(decide(row('cancelled'), killed, NOW, { source: 'pushed' }).action, 'none', 'a job that is over stays over')
})

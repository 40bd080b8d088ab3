// The job error a user reads for each way the runtime reports a trainer failed.
import t from 'tap'
import type { ExecutionObservation } from '../../../src/running/executor/executor.ts'
import { jobErrorFor, leavesTrainerBehind, liveNotice } from '../../../src/running/scheduler/execution-failure.ts'

const failed = (reason: string, message?: string): ExecutionObservation => ({ phase: 'failed', reason, ...(message ? { message } : {}) })

t.test('every failure reason becomes a code and a sentence', async (t) => {
  const cases: [ExecutionObservation, string, RegExp][] = [
    [failed('oom_killed', 'the trainer was killed for using more memory than its limit (32Gi) (OOMKilled, exit code 137); use a smaller batch size'), 'out_of_memory', /^The trainer ran out of memory \(OOMKilled\): the trainer was killed .*\(32Gi\).*smaller batch size\.$/],
    [failed('image_pull', 'the trainer image t:1 could not be pulled (ImagePullBackOff): Back-off'), 'trainer_image_unavailable', /^The trainer could not start because its image could not be pulled: .*ImagePullBackOff.*\.$/],
    [failed('evicted', 'pod evicted: The node was low on resource: memory.'), 'trainer_evicted', /^The trainer was evicted from its node: pod evicted: The node was low on resource: memory\.$/],
    [failed('deadline_exceeded', 'the trainer ran longer than the configured deadline (activeDeadlineSeconds): Job was active longer than specified deadline'), 'deadline_exceeded', /^The trainer was stopped for running longer than the configured deadline: .*activeDeadlineSeconds/],
    [failed('unschedulable', 'no node could run the trainer for 1800s: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.'), 'trainer_unschedulable', /^No node in the cluster could run the trainer in time: .*Insufficient nvidia\.com\/gpu\.$/],
    [failed('bad_input', 'line 3: "messages" must be a non-empty array'), 'invalid_training_input', /^The trainer rejected its input: line 3/],
    [failed('container_config', 'the trainer container cannot start (CreateContainerConfigError): secret "skillet-s3" not found'), 'trainer_misconfigured', /^The trainer container could not be created: .*skillet-s3/],
    [failed('exit_code', 'The trainer exited with code 3: CUDA error'), 'trainer_failed', /^The trainer exited with code 3: CUDA error\.$/],
    [failed('exit_code', 'the trainer exited with code 1: boom'), 'trainer_failed', /^The trainer exited with code 1: boom\.$/],
    [failed('job_failed'), 'trainer_failed', /^The trainer failed\.$/],
    [failed('oom_killed'), 'out_of_memory', /^The trainer ran out of memory \(OOMKilled\)\.$/],
  ]
  for (const [seen, code, message] of cases) {
    const error = jobErrorFor(seen)
    t.equal(error.code, code, String(seen.reason))
    t.match(error.message, message, String(seen.reason))
  }
})

t.test('only failures that leave a pod waiting need its Job deleted', async (t) => {
  t.same(
    ['image_pull', 'container_config', 'unschedulable', 'oom_killed', 'exit_code', 'evicted', 'deadline_exceeded'].filter((r) => leavesTrainerBehind(failed(r))),
    ['image_pull', 'container_config', 'unschedulable'],
  )
  t.notOk(leavesTrainerBehind({ phase: 'running' }))
})

t.test('an evicted pod replaced while the trainer lives is worth an event; other live states are not', async (t) => {
  t.match(liveNotice({ phase: 'running', message: 'retrying after the previous pod was evicted: pod evicted: low memory' }), /^The trainer's pod was evicted; .*resumes from the latest checkpoint \(retrying after/)
  t.equal(liveNotice({ phase: 'pending', message: 'waiting for a node: 0/4 nodes are available' }), null)
  t.equal(liveNotice({ phase: 'running' }), null)
  t.equal(liveNotice(failed('evicted', 'previous pod was evicted')), null)
})

// observeJob on Job and Pod objects shaped like the API server's answers (as the typed client
// deserialises them: timestamps are Dates), one test per way a trainer attempt can end or stall.
import t from 'tap'
import type { V1Job, V1JobCondition, V1Pod, V1PodStatus } from '@kubernetes/client-node'
import { observeJob } from '../../../src/running/kubernetes/observe-job.ts'

const T0 = new Date('2026-03-01T10:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)
const options = { unschedulableTimeoutSeconds: 600 }
const NAME = 'skillet-ftjob-ab3de5gh7jk9mn1pq3st5vx7-1a2b3c4d-a1'

function job(status: V1Job['status'], suspend = false): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: NAME, namespace: 'skillet-training', uid: '6f1c-…', creationTimestamp: T0 },
    spec: { ...(suspend ? { suspend } : {}), backoffLimit: 0, template: { spec: { containers: [], restartPolicy: 'Never' } } },
    status,
  }
}

function condition(type: string, reason: string, message: string): V1JobCondition {
  return { type, status: 'True', reason, message, lastProbeTime: at(60), lastTransitionTime: at(60) }
}

function pod(suffix: string, createdSecondsAfterT0: number, status: V1PodStatus): V1Pod {
  return {
    metadata: { name: `${NAME}-${suffix}`, namespace: 'skillet-training', creationTimestamp: at(createdSecondsAfterT0) },
    spec: { containers: [{ name: 'trainer', image: 'ghcr.io/example/skillet-trainer:0.1.0', resources: { limits: { memory: '32Gi', 'nvidia.com/gpu': '1' } } }] },
    status,
  }
}

const running: V1PodStatus = {
  phase: 'Running',
  startTime: at(5),
  conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at(20) }, { type: 'PodScheduled', status: 'True', lastTransitionTime: at(1) }],
  containerStatuses: [{ name: 'trainer', image: 'ghcr.io/example/skillet-trainer:0.1.0', imageID: 'sha256:…', ready: true, restartCount: 0, started: true, state: { running: { startedAt: at(19) } } }],
}

const terminated = (exitCode: number, reason: string, message?: string): V1PodStatus => ({
  phase: exitCode === 0 ? 'Succeeded' : 'Failed',
  startTime: at(5),
  containerStatuses: [
    { name: 'trainer', image: 'ghcr.io/example/skillet-trainer:0.1.0', imageID: 'sha256:…', ready: false, restartCount: 0, state: { terminated: { exitCode, reason, ...(message ? { message } : {}), startedAt: at(19), finishedAt: at(50) } } },
  ],
})

const evictedStatus: V1PodStatus = {
  ...terminated(137, 'Error'),
  reason: 'Evicted',
  message: 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 61204Ki. ',
  conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: 'The node was low on resource: memory.', lastTransitionTime: at(40) }],
}

const waiting = (reason: string, message?: string): V1PodStatus => ({
  phase: 'Pending',
  conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: at(1) }],
  containerStatuses: [
    { name: 'trainer', image: 'ghcr.io/example/skillet-trainer:0.1.0', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } },
  ],
})

const unschedulableSince = (seconds: number): V1PodStatus => ({
  phase: 'Pending',
  conditions: [
    {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
      lastTransitionTime: at(seconds),
    },
  ],
})

const active = { active: 1, ready: 0, startTime: at(0), terminating: 0, uncountedTerminatedPods: {} }

t.test('no Job: gone', async (t) => {
  t.match(observeJob(undefined, [], at(0), options), { phase: 'gone' })
})

t.test('Complete: succeeded', async (t) => {
  const done = job({
    succeeded: 1,
    completionTime: at(60),
    conditions: [
      condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
      condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
    ],
  })
  t.same(observeJob(done, [pod('a', 1, terminated(0, 'Completed'))], at(61), options), { phase: 'succeeded' })
})

t.test('a pod that exited 0 before the Job is marked complete: still running, not pending', async (t) => {
  const finishing = { ...terminated(0, 'Completed'), phase: 'Succeeded' }
  t.same(observeJob(job(active), [pod('a', 1, finishing)], at(61), options), {
    phase: 'running',
    message: 'the trainer exited successfully; waiting for the Job to be marked complete',
  })
})

t.test('a running pod: running; a pod being created: pending with the reason', async (t) => {
  t.same(observeJob(job({ ...active, ready: 1 }), [pod('a', 1, running)], at(30), options), { phase: 'running' })
  t.same(observeJob(job(active), [pod('a', 1, waiting('ContainerCreating'))], at(3), options), { phase: 'pending', message: 'ContainerCreating' })
  t.same(observeJob(job(active), [], at(0), options), { phase: 'pending' }, 'Job created, pod not yet')
})

t.test('OOMKilled container: failed oom_killed, naming the memory limit', async (t) => {
  const failed = job({ ...active, active: 0, failed: 1, conditions: [condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] })
  const obs = observeJob(failed, [pod('a', 1, terminated(137, 'OOMKilled'))], at(61), options)
  t.equal(obs.phase, 'failed')
  t.equal(obs.reason, 'oom_killed')
  t.match(obs.message, /more memory than its limit \(32Gi\).*OOMKilled.*batch size/)
})

t.test('BackoffLimitExceeded after a crash: failed exit_code with the log tail', async (t) => {
  const failed = job({ active: 0, failed: 1, conditions: [condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] })
  const obs = observeJob(failed, [pod('a', 1, terminated(1, 'Error', 'Error: CUDA_ERROR_ILLEGAL_ADDRESS\n    at train (src/trainer/train/loop.ts:88)'))], at(61), options)
  t.same(obs, { phase: 'failed', reason: 'exit_code', message: 'the trainer exited with code 1: Error: CUDA_ERROR_ILLEGAL_ADDRESS\n    at train (src/trainer/train/loop.ts:88)' })
  // Pods already garbage-collected: the Job's own condition is all there is.
  t.same(observeJob(failed, [], at(61), options), { phase: 'failed', reason: 'exit_code', message: 'BackoffLimitExceeded: Job has reached the specified backoff limit' })
})

t.test('PodFailurePolicy (the bad-input exit code): failed bad_input with the trainer message', async (t) => {
  const message = 'Container trainer for pod skillet-training/x failed with exit code 2 matching FailJob rule at index 0'
  const failed = job({ active: 0, failed: 1, conditions: [condition('FailureTarget', 'PodFailurePolicy', message), condition('Failed', 'PodFailurePolicy', message)] })
  t.same(observeJob(failed, [pod('a', 1, terminated(2, 'Error', 'line 3: "messages" must be a non-empty array'))], at(61), options), {
    phase: 'failed',
    reason: 'bad_input',
    message: 'line 3: "messages" must be a non-empty array',
  })
  t.same(observeJob(failed, [pod('a', 1, terminated(2, 'Error'))], at(61), options), { phase: 'failed', reason: 'bad_input', message }, 'no termination message: the controller says why')
})

t.test('DeadlineExceeded: failed deadline_exceeded', async (t) => {
  const failed = job({ active: 0, failed: 1, conditions: [condition('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')] })
  const obs = observeJob(failed, [pod('a', 1, running)], at(90_000), options)
  t.equal(obs.reason, 'deadline_exceeded')
  t.match(obs.message, /activeDeadlineSeconds.*Job was active longer than specified deadline/)
})

t.test('an unknown failure reason still fails, with the controller message', async (t) => {
  const failed = job({ conditions: [condition('Failed', 'MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes')] })
  t.same(observeJob(failed, [], at(1), options), { phase: 'failed', reason: 'job_failed', message: 'MaxFailedIndexesExceeded: Job has exceeded the specified maximal number of failed indexes' })
})

t.test('evicted pod while the Job retries: not failed, the message says why it restarted', async (t) => {
  const retrying = job({ ...active, ready: 1 })
  const pods = [pod('b', 45, running), pod('a', 1, evictedStatus)] // listing order is not age order
  const obs = observeJob(retrying, pods, at(60), options)
  t.equal(obs.phase, 'running')
  t.notOk(obs.reason, 'no failure reason on a live job')
  t.match(obs.message, /retrying after the previous pod was evicted: pod evicted: The node was low on resource: memory/)
  t.match(observeJob(job(active), [pod('a', 1, evictedStatus)], at(41), options), { phase: 'pending', message: /evicted/ }, 'replacement pod not created yet')
})

t.test('a Job that failed after an eviction reports evicted', async (t) => {
  const failed = job({ conditions: [condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] })
  t.match(observeJob(failed, [pod('a', 1, evictedStatus)], at(61), options), { phase: 'failed', reason: 'evicted' })
})

t.test('image pull errors fail the attempt at once', async (t) => {
  for (const [reason, message] of [
    ['ErrImagePull', 'rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/example/skillet-trainer:0.1.0": not found'],
    ['ImagePullBackOff', 'Back-off pulling image "ghcr.io/example/skillet-trainer:0.1.0"'],
    ['InvalidImageName', 'Failed to apply default image tag "Bad Image": couldn\'t parse image name'],
  ]) {
    const obs = observeJob(job(active), [pod('a', 1, waiting(reason, message))], at(30), options)
    t.equal(obs.phase, 'failed', reason)
    t.equal(obs.reason, 'image_pull', reason)
    t.match(obs.message, new RegExp(`ghcr.io/example/skillet-trainer:0.1.0 could not be pulled \\(${reason}\\)`))
  }
})

t.test('a container that cannot be configured (missing Secret) fails with container_config', async (t) => {
  const obs = observeJob(job(active), [pod('a', 1, waiting('CreateContainerConfigError', 'secret "skillet-s3" not found'))], at(30), options)
  t.same(obs, { phase: 'failed', reason: 'container_config', message: 'the trainer container cannot start (CreateContainerConfigError): secret "skillet-s3" not found' })
})

t.test('unschedulable: pending until the configured time has passed, then failed', async (t) => {
  const stuck = [pod('a', 1, unschedulableSince(1))]
  t.same(observeJob(job(active), stuck, at(1 + 599), options), { phase: 'pending', message: 'waiting for a node: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.' })
  t.same(observeJob(job(active), stuck, at(1 + 600), options), {
    phase: 'failed',
    reason: 'unschedulable',
    message: 'no node could run the trainer for 600s: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.',
  })
  // Timestamps as strings (raw watch objects) are read the same way.
  const raw = JSON.parse(JSON.stringify(stuck)) as V1Pod[]
  t.equal(observeJob(job(active), raw, at(1 + 600), options).reason, 'unschedulable')
})

t.test('suspended (waiting for Kueue): pending', async (t) => {
  const suspended = job({ conditions: [{ ...condition('Suspended', 'JobSuspended', 'Job suspended') }] }, true)
  t.same(observeJob(suspended, [], at(5), options), { phase: 'pending', message: 'waiting for the cluster queue (Kueue) to admit the job' })
})

t.test('only the newest live pod decides (an old failed pod does not)', async (t) => {
  const pods = [pod('a', 1, terminated(137, 'OOMKilled')), pod('b', 30, running)]
  t.same(observeJob(job({ ...active, ready: 1, failed: 1 }), pods, at(60), options), { phase: 'running' })
})

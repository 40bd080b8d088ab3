// The Kubernetes executor through @kubernetes/client-node against the loopback fake API server,
// which validates every body against the official schemas and plays a pod lifecycle per Job.
import t, { type Test } from 'tap'
import type { V1Job, V1Pod, V1Secret } from '@kubernetes/client-node'
import { KubernetesExecutor } from '../../../src/running/kubernetes/kubernetes-executor.ts'
import type { KubernetesExecutorConfig } from '../../../src/config/kubernetes-executor-config.ts'
import { jobResourceName } from '../../../src/running/kubernetes/resource-names.ts'
import { buildJobSecret } from '../../../src/running/kubernetes/secret-manifest.ts'
import { FakeKube, SCRIPTS, type Script } from '../../helpers/fake-kube/fake-kube.ts'
import { launchRequest } from './fixtures.ts'

const NS = 'skillet-training'
const config: KubernetesExecutorConfig = {
  namespace: NS,
  image: 'ghcr.io/example/skillet-trainer:0.1.0',
  requests: { cpu: '2', memory: '8Gi' },
  limits: { memory: '16Gi' },
  s3SecretName: 'skillet-s3',
  unschedulableTimeoutSeconds: 600,
}

async function setup(t: Test, script: Script, extra: Partial<KubernetesExecutorConfig> = {}, now?: () => Date) {
  const fake = await FakeKube.start({ script: () => script })
  t.teardown(() => fake.close())
  const executor = new KubernetesExecutor({ kubeConfig: fake.kubeConfig(), config: { ...config, ...extra }, ...(now ? { now } : {}) })
  t.teardown(() => executor.close())
  return { fake, executor }
}

const req = launchRequest()
const jobId = req.spec.jobId
const name = jobResourceName(jobId, 1)

t.test('success: Secret, Job, owner reference; pending → running → succeeded', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.success)
  await executor.launch(req)

  const job = fake.get<V1Job>('jobs', NS, name)!
  const secret = fake.get<V1Secret>('secrets', NS, name)!
  t.ok(job, 'the Job exists')
  t.same(secret.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata!.uid, controller: false, blockOwnerDeletion: false }])
  t.equal(Buffer.from(secret.data!.token, 'base64').toString(), req.token)
  t.same(
    fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.split('/').at(-1)} ${r.status} ${r.contentType ?? ''}`),
    [`POST secrets 201 application/json`, `POST jobs 201 application/json`, `PATCH ${name} 200 application/merge-patch+json`],
    'every body the client sent passed the strict schema check',
  )

  t.same(await executor.observe(jobId), { phase: 'pending' })
  fake.advance(NS, name)
  t.same(await executor.observe(jobId), { phase: 'pending', message: 'ContainerCreating' })
  fake.advance(NS, name)
  t.same(await executor.observe(jobId), { phase: 'running' })
  fake.advance(NS, name)
  t.same(await executor.observe(jobId), { phase: 'succeeded' })
})

t.test('OOM: failed with oom_killed', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.oom)
  await executor.launch(req)
  fake.advanceAll(NS, name)
  const obs = await executor.observe(jobId)
  t.equal(obs.phase, 'failed')
  t.equal(obs.reason, 'oom_killed')
  t.match(obs.message, /\(16Gi\)/, 'the message names the configured limit')
  t.match(fake.get<V1Job>('jobs', NS, name)!.status!.conditions, [{ type: 'FailureTarget', reason: 'BackoffLimitExceeded' }, { type: 'Failed' }])
})

t.test('eviction, then the Job retries in a second pod and succeeds', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.evictedThenSuccess)
  await executor.launch(req)
  for (let i = 0; i < 3; i++) fake.advance(NS, name) // creating, running, evicted
  const afterEviction = await executor.observe(jobId)
  t.equal(afterEviction.phase, 'pending', 'not failed: backoffLimit 0, yet the disruption rule keeps the Job going')
  t.match(afterEviction.message, /evicted: The node was low on resource: memory/)
  t.equal(fake.list('pods', NS).length, 2, 'the Job controller created a replacement pod')

  fake.advance(NS, name)
  fake.advance(NS, name)
  t.match(await executor.observe(jobId), { phase: 'running', message: /retrying after the previous pod was evicted/ })
  fake.advance(NS, name)
  t.same(await executor.observe(jobId), { phase: 'succeeded' })
  t.notOk(fake.get<V1Job>('jobs', NS, name)!.status!.failed, 'the eviction did not count as a failure')
})

t.test('bad input exit code: the pod failure policy fails the Job at once', async (t) => {
  const { fake, executor } = await setup(t, [...SCRIPTS.badInput, ['creating', 'running', 'succeeded']], { backoffLimit: 3 })
  await executor.launch(req)
  fake.advanceAll(NS, name)
  t.same(await executor.observe(jobId), { phase: 'failed', reason: 'bad_input', message: 'training file line 3: "messages" must be a non-empty array' })
  t.equal(fake.list('pods', NS).length, 1, 'no retry despite backoffLimit 3')
})

t.test('image pull failure: failed with image_pull', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.imagePullFailure, { image: 'ghcr.io/example/skillet-trainer:does-not-exist' })
  await executor.launch(req)
  fake.advance(NS, name)
  t.match(await executor.observe(jobId), { phase: 'failed', reason: 'image_pull', message: /skillet-trainer:does-not-exist could not be pulled \(ErrImagePull\)/ })
  fake.advance(NS, name)
  t.match(await executor.observe(jobId), { phase: 'failed', reason: 'image_pull', message: /ImagePullBackOff/ })
})

t.test('unschedulable: pending, then failed once the configured time has passed', async (t) => {
  let now = new Date()
  const { fake, executor } = await setup(t, SCRIPTS.unschedulable, {}, () => now)
  await executor.launch(req)
  fake.advance(NS, name)
  t.match(await executor.observe(jobId), { phase: 'pending', message: /Insufficient nvidia.com\/gpu/ })
  now = new Date(Date.now() + 601_000)
  t.match(await executor.observe(jobId), { phase: 'failed', reason: 'unschedulable', message: /no node could run the trainer/ })
})

t.test('cancel mid-run deletes the Job with Background propagation, its pods and the Secret; idempotent', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.runForever)
  await executor.launch(req)
  fake.advanceAll(NS, name)
  t.same(await executor.observe(jobId), { phase: 'running' })

  await executor.cancel(jobId)
  const deletes = fake.requests.filter((r) => r.method === 'DELETE')
  t.same(
    deletes.map((d) => [d.path.split('/').slice(-2).join('/'), d.query.propagationPolicy ?? null, d.status]),
    [
      [`jobs/${name}`, 'Background', 200],
      // The Secret is deleted by us and by the garbage collector, whichever comes first; both are fine.
      [`secrets/${name}`, null, deletes[1].status === 404 ? 404 : 200],
    ],
  )
  t.equal(fake.list('jobs', NS).length, 0)
  t.equal(fake.list('pods', NS).length, 0, 'pods went with the Job (without Background they would be orphaned)')
  t.equal(fake.list('secrets', NS).length, 0)
  t.same(await executor.observe(jobId), { phase: 'gone', message: 'no Kubernetes Job exists for this job attempt' })
  await t.resolves(executor.cancel(jobId), 'cancelling again is a no-op')
})

t.test('the Secret is garbage-collected with its Job through the owner reference', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.runForever)
  await executor.launch(req)
  // Someone deletes the Job by hand (kubectl delete job uses Background).
  const res = await fetch(`${fake.url}/apis/batch/v1/namespaces/${NS}/jobs/${name}?propagationPolicy=Background`, {
    method: 'DELETE',
    headers: { authorization: 'Bearer fake-kube-token' },
  })
  t.equal(res.status, 200)
  t.equal(fake.get('secrets', NS, name), undefined)
})

t.test('launching the same attempt twice is a no-op; AlreadyExists from another owner is an error', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.runForever)
  await executor.launch(req)
  const uid = fake.get<V1Job>('jobs', NS, name)!.metadata!.uid
  await executor.launch(req)
  t.equal(fake.list('jobs', NS).length, 1)
  t.equal(fake.get<V1Job>('jobs', NS, name)!.metadata!.uid, uid, 'the same Job, not a new one')
  t.same(fake.requests.filter((r) => r.method === 'POST').map((r) => r.status), [201, 201, 409, 409])

  // A Job with the next attempt's name exists, but it is somebody else's (labels differ).
  const other = launchRequest({ attempt: 2 })
  const otherName = jobResourceName(jobId, 2)
  fake.seed('jobs', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: otherName, namespace: NS, labels: { app: 'not-skillet' } },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'busybox' }] } } },
  })
  await t.rejects(executor.launch(other), /already exists and does not belong to job ftjob-Ab3dE5gH7jK9mN1pQ3sT5vX7 attempt 2/)
  t.same(fake.get<V1Job>('jobs', NS, otherName)!.metadata!.labels, { app: 'not-skillet' }, 'the foreign Job is left alone')
})

t.test('a launch interrupted after the Secret is finished by launching again', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.runForever)
  fake.seed('secrets', buildJobSecret(req, NS)) // the Secret made it, the Job did not
  await executor.launch(req)
  const job = fake.get<V1Job>('jobs', NS, name)!
  t.ok(job)
  t.equal(fake.get<V1Secret>('secrets', NS, name)!.metadata!.ownerReferences![0].uid, job.metadata!.uid)
})

t.test('observe follows the newest attempt', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.oom)
  await executor.launch(req)
  fake.advanceAll(NS, name)
  t.equal((await executor.observe(jobId)).reason, 'oom_killed')
  fake.script = () => SCRIPTS.success
  await executor.launch(launchRequest({ attempt: 2 }))
  t.same(await executor.observe(jobId), { phase: 'pending' }, 'attempt 2 is pending; attempt 1 has failed')
  t.equal(fake.list<V1Pod>('pods', NS).length, 2)
})

t.test('Kueue: the Job waits suspended until admitted', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.success, { kueueQueueName: 'gpu-queue' })
  await executor.launch(req)
  t.equal(fake.list('pods', NS).length, 0, 'no pod while suspended')
  t.same(await executor.observe(jobId), { phase: 'pending', message: 'waiting for the cluster queue (Kueue) to admit the job' })
  fake.admit(NS, name)
  fake.advanceAll(NS, name)
  t.same(await executor.observe(jobId), { phase: 'succeeded' })
})

t.test('a manifest the API server rejects fails the launch with its message', async (t) => {
  const { fake, executor } = await setup(t, SCRIPTS.success, { limits: { memory: '16 GB' } })
  const err = await executor.launch(req).then(
    () => undefined,
    (e: unknown) => e as { code?: number; message: string },
  )
  t.equal(err?.code, 422)
  t.match(err?.message, /^creating Job skillet-training\/skillet-ftjob-\S+: Job.batch ".*" is invalid: \/spec\/template\/spec\/containers\/0\/resources\/limits\/memory/)
  t.equal(fake.list('jobs', NS).length, 0)
})

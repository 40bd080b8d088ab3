import t, { type Test } from 'tap'
import type { V1Job } from '@kubernetes/client-node'
import type { ExecutionObservation } from '../../../src/running/executor/executor.ts'
import { JobReconciler } from '../../../src/running/kubernetes/reconciler.ts'
import { KubernetesExecutor } from '../../../src/running/kubernetes/kubernetes-executor.ts'
import { jobResourceName } from '../../../src/running/kubernetes/resource-names.ts'
import { buildJobSecret } from '../../../src/running/kubernetes/secret-manifest.ts'
import { FakeKube, SCRIPTS } from '../../helpers/fake-kube/fake-kube.ts'
import { launchRequest } from './fixtures.ts'

const NS = 'skillet-training'
const A = launchRequest({ jobId: 'ftjob-AAAAAAAAAAAAAAAAAAAAAAAA' })
const B = launchRequest({ jobId: 'ftjob-BBBBBBBBBBBBBBBBBBBBBBBB' })
const nameA = jobResourceName(A.spec.jobId, 1)
const nameB = jobResourceName(B.spec.jobId, 1)

async function setup(t: Test) {
  const fake = await FakeKube.start({ script: () => SCRIPTS.success })
  t.teardown(() => fake.close())
  const executor = new KubernetesExecutor({ kubeConfig: fake.kubeConfig(), config: { namespace: NS, image: 'trainer:1' } })
  const seen: [string, ExecutionObservation][] = []
  const reconciler = (extra: Partial<ConstructorParameters<typeof JobReconciler>[0]> = {}) => {
    const r = new JobReconciler({ kubeConfig: fake.kubeConfig(), namespace: NS, onChange: (id, obs) => void seen.push([id, obs]), ...extra })
    t.teardown(() => r.close())
    return r
  }
  return { fake, executor, seen, reconciler }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const phasesOf = (seen: [string, ExecutionObservation][], jobId: string) => seen.filter(([id]) => id === jobId).map(([, o]) => o.phase)

t.test('the watch delivers each change of a job once, in order', async (t) => {
  const { fake, executor, seen, reconciler } = await setup(t)
  const r = reconciler({ resyncIntervalMs: 3_600_000 }) // no periodic resync: only the watch can deliver
  await r.start()
  await executor.launch(A)
  await waitFor('pending', () => phasesOf(seen, A.spec.jobId).includes('pending'))
  fake.advance(NS, nameA) // creating: a pod change only, the Job does not change
  await waitFor('ContainerCreating', () => seen.some(([, o]) => o.message === 'ContainerCreating'))
  fake.advance(NS, nameA)
  await waitFor('running', () => phasesOf(seen, A.spec.jobId).includes('running'))
  fake.advance(NS, nameA)
  await waitFor('succeeded', () => phasesOf(seen, A.spec.jobId).includes('succeeded'))
  await executor.cancel(A.spec.jobId)
  await waitFor('gone', () => phasesOf(seen, A.spec.jobId).includes('gone'))
  await new Promise((r) => setTimeout(r, 100)) // late pod/secret events must not repeat anything

  const deliveries = seen.filter(([id]) => id === A.spec.jobId).map(([, o]) => JSON.stringify(o))
  // The pod and the Job are two watch streams: when the pod's exit arrives before the Job controller's
  // Complete, the in-between state is a real (distinct) observation, delivered once, just before succeeded.
  const betweenExitAndComplete = (o: ExecutionObservation) => o.phase === 'running' && /exited successfully/.test(o.message ?? '')
  const ofA = seen.filter(([id]) => id === A.spec.jobId).map(([, o]) => o)
  const between = ofA.findIndex(betweenExitAndComplete)
  if (between >= 0) t.equal(ofA[between + 1]?.phase, 'succeeded', 'the in-between state comes right before succeeded')
  t.same(ofA.filter((o) => !betweenExitAndComplete(o)).map((o) => o.phase), ['pending', 'pending', 'running', 'succeeded', 'gone'])
  t.equal(new Set(deliveries).size, deliveries.length, 'no observation delivered twice')
})

t.test('resync finds what happened while nobody watched; a restarted reconciler neither loses nor duplicates', async (t) => {
  const { fake, executor, seen, reconciler } = await setup(t)
  await executor.launch(A)
  await executor.launch(B)
  fake.advanceAll(NS, nameA) // A finishes while no reconciler runs

  await reconciler().resync()
  t.same(
    seen.map(([id, o]) => [id, o.phase]).sort(),
    [
      [A.spec.jobId, 'succeeded'],
      [B.spec.jobId, 'pending'],
    ],
  )

  // The worker restarts: a new instance, and the scheduler launches the running job again.
  seen.length = 0
  const second = reconciler()
  await executor.launch(B)
  await second.resync()
  t.equal(fake.list<V1Job>('jobs', NS).length, 2, 'no duplicate Job')
  t.same(seen.map(([id, o]) => [id, o.phase]).sort(), [
    [A.spec.jobId, 'succeeded'],
    [B.spec.jobId, 'pending'],
  ])
  seen.length = 0
  await second.resync()
  t.same(seen, [], 'nothing changed, nothing delivered')

  // B's Job disappears without an event reaching us: the next resync says so.
  await executor.cancel(B.spec.jobId)
  await second.resync()
  t.same(seen, [[B.spec.jobId, { phase: 'gone', message: 'no Kubernetes Job exists for this job attempt' }]])
})

t.test('a failing callback is retried by the next resync', async (t) => {
  const { executor, reconciler } = await setup(t)
  await executor.launch(A)
  let calls = 0
  const r = reconciler({
    onChange: () => {
      calls++
      if (calls === 1) throw new Error('database unavailable')
    },
  })
  await t.rejects(r.resync(), /database unavailable/)
  await r.resync()
  t.equal(calls, 2, 'delivered again, since the first delivery failed')
  await r.resync()
  t.equal(calls, 2)
})

t.test('orphan sweep deletes the Jobs and Secrets of jobs that are no longer active', async (t) => {
  const { fake, executor, reconciler } = await setup(t)
  await executor.launch(A)
  await executor.launch(B)
  const C = launchRequest({ jobId: 'ftjob-CCCCCCCCCCCCCCCCCCCCCCCC' })
  fake.seed('secrets', buildJobSecret(C, NS)) // a launch that crashed before creating its Job
  fake.seed('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'skillet-s3', namespace: NS }, stringData: { AWS_ACCESS_KEY_ID: 'x' } })

  const asked: string[] = []
  const swept = await reconciler().sweepOrphans(async (id) => {
    asked.push(id)
    return id === A.spec.jobId
  })
  t.same(swept.sort(), [B.spec.jobId, C.spec.jobId])
  t.same(asked.sort(), [A.spec.jobId, B.spec.jobId, C.spec.jobId], 'only Skillet-managed objects are considered')
  t.same(fake.list('jobs', NS).map((j) => j.metadata!.name), [nameA])
  t.same(fake.list('secrets', NS).map((s) => s.metadata!.name).sort(), [nameA, 'skillet-s3'].sort(), 'the S3 Secret is not ours and stays')
  t.equal(fake.requests.find((r) => r.method === 'DELETE' && r.path.endsWith(`/jobs/${nameB}`))?.query.propagationPolicy, 'Background')
})

t.test('the periodic resync sweeps orphans when given isActive', async (t) => {
  const { fake, executor, reconciler } = await setup(t)
  await executor.launch(A)
  const r = reconciler({ resyncIntervalMs: 30, isActive: async () => false })
  await r.start()
  await waitFor('the sweep', () => fake.list('jobs', NS).length === 0)
  t.equal(fake.list('secrets', NS).length, 0)
})

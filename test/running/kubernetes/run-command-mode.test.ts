// The fake API server's 'run-command' mode: a created Job's container command runs as a local child
// process with the container's environment resolved from stored Secrets, and its exit becomes the
// pod's and the Job's status. This is what an end-to-end test through the real trainer will use.
import t, { type Test } from 'tap'
import { KubernetesExecutor } from '../../../src/running/kubernetes/kubernetes-executor.ts'
import { jobResourceName } from '../../../src/running/kubernetes/resource-names.ts'
import { FakeKube } from '../../helpers/fake-kube/fake-kube.ts'
import { launchRequest } from './fixtures.ts'

const NS = 'skillet-training'
const req = launchRequest()
const name = jobResourceName(req.spec.jobId, 1)

// The "trainer": checks every variable it should get, from all three sources, then exits as told.
const trainer = `
const spec = JSON.parse(process.env.SKILLET_JOB_SPEC)
const problems = []
if (spec.jobId !== ${JSON.stringify(req.spec.jobId)}) problems.push('spec.jobId')
if (process.env.SKILLET_JOB_TOKEN !== ${JSON.stringify(req.token)}) problems.push('token')
if (process.env.SKILLET_CALLBACK_URL !== spec.callbackUrl) problems.push('callback url')
if (process.env.AWS_ACCESS_KEY_ID !== 'AKIAFAKE' || process.env.SKILLET_S3_BUCKET !== 'skillet') problems.push('s3 env')
if (problems.length) { console.error('missing or wrong: ' + problems.join(', ')); process.exit(1) }
console.log('loaded ' + spec.trainingFile.id)
if (process.argv[1] === 'bad-input') { console.error('line 3: "messages" must be a non-empty array'); process.exit(2) }
if (process.argv[1] === 'hang') setInterval(() => {}, 1000)
`

async function setup(t: Test, args: string[], s3 = true) {
  const fake = await FakeKube.start({ script: () => 'run-command' })
  t.teardown(() => fake.close())
  if (s3) {
    fake.seed('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'skillet-s3', namespace: NS }, stringData: { AWS_ACCESS_KEY_ID: 'AKIAFAKE', SKILLET_S3_BUCKET: 'skillet' } })
  }
  const executor = new KubernetesExecutor({
    kubeConfig: fake.kubeConfig(),
    config: { namespace: NS, image: 'trainer:1', command: [process.execPath, '-e', trainer], args, s3SecretName: 'skillet-s3' },
  })
  return { fake, executor }
}

t.test('the container sees spec, token (secretKeyRef), callback URL and S3 settings (envFrom); exit 0 succeeds', async (t) => {
  const { fake, executor } = await setup(t, ['ok'])
  await executor.launch(req)
  await fake.containerExited(NS, name)
  t.same(await executor.observe(req.spec.jobId), { phase: 'succeeded' })
})

t.test('exit code 2 fails the Job through the pod failure policy, with the log tail as the message', async (t) => {
  const { fake, executor } = await setup(t, ['bad-input'])
  await executor.launch(req)
  await fake.containerExited(NS, name)
  const obs = await executor.observe(req.spec.jobId)
  t.equal(obs.phase, 'failed')
  t.equal(obs.reason, 'bad_input')
  t.match(obs.message, /loaded file-Tr41n1ngF1le000000000\nline 3: "messages" must be a non-empty array/)
})

t.test('a missing S3 Secret keeps the container from starting', async (t) => {
  const { executor } = await setup(t, ['ok'], false)
  await executor.launch(req)
  t.same(await executor.observe(req.spec.jobId), {
    phase: 'failed',
    reason: 'container_config',
    message: 'the trainer container cannot start (CreateContainerConfigError): secret "skillet-s3" not found',
  })
})

t.test('cancel stops the running process', async (t) => {
  const { fake, executor } = await setup(t, ['hang'])
  await executor.launch(req)
  t.same(await executor.observe(req.spec.jobId), { phase: 'running' })
  let exited = false
  const exit = fake.containerExited(NS, name).then(() => (exited = true))
  await new Promise((r) => setTimeout(r, 200))
  t.notOk(exited, 'the trainer keeps running until cancelled')
  await executor.cancel(req.spec.jobId)
  await exit
  t.ok(exited, 'the child process was killed')
  t.equal((await executor.observe(req.spec.jobId)).phase, 'gone')
})

// The whole path through the Kubernetes executor: the API with SKILLET_EXECUTOR=kubernetes, a
// kubeconfig file pointing at the loopback fake API server, jobs created with the openai SDK. In
// 'run-command' mode the fake cluster runs each Job's container command (the scripted fake trainer)
// as a local process with the env the pod would get, and the trainer calls the API back at
// SKILLET_INTERNAL_URL; scripted pod lifecycles play the failures a real cluster produces.
import fs from 'node:fs'
import path from 'node:path'
import type { V1Secret } from '@kubernetes/client-node'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { fineTuningJobs } from '../../src/db/schema/index.ts'
import { SCRIPTS } from '../helpers/fake-kube/fake-kube.ts'
import { FAKE_TRAINER, TEST_BASE_MODEL, allEvents, chatExample, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { KUBE_NS as NS, startKubeApp, until } from '../helpers/kube-test-app.ts'
import { tmpDir } from '../helpers/test-app.ts'
import { startReceiver } from '../webhooks/receiver.ts'

// One fake cluster and one API for the file; the tests run one after the other and set the fake's
// script (run the container command, or a scripted pod lifecycle) for the Job they create.
const scriptsDir = await tmpDir(t, 'skillet-fake-trainer-')
const ctx = await startKubeApp(t, {
  executor: { command: [process.execPath, FAKE_TRAINER, '--scripts', scriptsDir], limits: { memory: '2Gi' }, s3SecretName: 'skillet-s3' },
  env: { SKILLET_BASE_MODELS: `${TEST_BASE_MODEL}=/nonexistent/${TEST_BASE_MODEL}` },
})
const { fake, client, internalUrl, jobOnCluster, deletedWithBackground } = ctx
const background = ctx.background
fake.seed('secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'skillet-s3', namespace: NS }, stringData: { SKILLET_S3_BUCKET: 'unused-by-the-fake-trainer' } })

const examples = (tag: string) => Array.from({ length: 10 }, (_, i) => chatExample(i)).concat([{ messages: [{ role: 'user', content: tag }, { role: 'assistant', content: tag }] }])

t.test('a job runs as a Kubernetes Job, succeeds, and its webhook arrives signed', async (t) => {
  t.equal(background.kubernetes !== null, true, 'the reconciler runs')
  const receiver = await startReceiver(t)
  const endpoint = await client.webhooks.create({ name: 'jobs', url: receiver.url, event_types: ['fine_tuning.job.succeeded'] })
  fake.script = () => 'run-command'
  const file = await uploadDataset(client, examples('success'))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id, suffix: 'kube' })

  const k8sJob = await jobOnCluster(job.id)
  const name = k8sJob.metadata!.name!
  t.equal(k8sJob.spec!.template.spec!.containers[0].command![1], FAKE_TRAINER, 'the configured trainer command')
  const secret = fake.get<V1Secret>('secrets', NS, name)!
  const spec = JSON.parse(Buffer.from(secret.data!['spec.json'], 'base64').toString())
  t.equal(spec.callbackUrl, internalUrl, 'SKILLET_INTERNAL_URL is the callback URL in the job spec')
  t.equal(spec.jobId, job.id)

  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 60_000)
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  t.match(done.fine_tuned_model, /^ft:tiny-test:.+:kube:/)
  const messages = (await allEvents(client, job.id)).map((e) => e.message)
  t.ok(messages.includes('Fake trainer attempt 1: 11 examples, starting at step 0'), 'the trainer in the pod reported through SKILLET_INTERNAL_URL')
  t.ok(messages.includes('The job has successfully completed'))

  await receiver.waitFor(1)
  const event = await client.webhooks.unwrap(receiver.received[0].body, receiver.received[0].headers, endpoint.signing_secret)
  t.match(event, { object: 'event', type: 'fine_tuning.job.succeeded', data: { id: job.id } }, 'the SDK verifies the signature')

  await until('the finished Job to be deleted', () => fake.list('jobs', NS, `skillet.dev/job-id=${job.id}`).length === 0 && fake.list('secrets', NS, `skillet.dev/job-id=${job.id}`).length === 0)
  t.ok(deletedWithBackground(name), 'deleted with propagationPolicy Background')
})

t.test('OOMKilled fails the job with a clear error', async (t) => {
  fake.script = () => SCRIPTS.oom
  const file = await uploadDataset(client, examples('oom'))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const name = (await jobOnCluster(job.id)).metadata!.name!
  fake.advanceAll(NS, name)
  const failed = await waitForJob(client, job.id, ['failed', 'succeeded', 'cancelled'])
  t.equal(failed.status, 'failed')
  t.equal(failed.error?.code, 'out_of_memory')
  t.match(failed.error?.message, /^The trainer ran out of memory \(OOMKilled\): .*\(2Gi\).*smaller batch size/)
  const events = await allEvents(client, job.id)
  t.ok(events.some((e) => e.level === 'error' && e.message === failed.error?.message), 'the error is an event too')
})

t.test('an evicted pod is replaced and the trainer resumes from its checkpoint', async (t) => {
  fake.script = () => 'run-command'
  const file = await uploadDataset(client, examples('evict'))
  fs.writeFileSync(path.join(scriptsDir, `${file.id}.json`), JSON.stringify({ steps: 12, stepMs: 120, checkpointEvery: 2 }))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const name = (await jobOnCluster(job.id)).metadata!.name!
  await until('a checkpoint', async () => (await client.fineTuning.jobs.checkpoints.list(job.id)).data.length > 0)
  await fake.evict(NS, name)

  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 60_000)
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  const events = await allEvents(client, job.id)
  const messages = events.map((e) => e.message)
  t.ok(messages.includes('Fake trainer attempt 1: 11 examples, starting at step 0'))
  t.ok(
    messages.some((m) => /^Fake trainer attempt 1: 11 examples, starting at step ([2-9]|1[0-2])$/.test(m)),
    'the replacement pod (same attempt, same token) resumed from a checkpoint',
  )
  t.ok(events.some((e) => e.level === 'warn' && /^The trainer's pod was evicted; Kubernetes is starting a new one/.test(e.message)), 'the eviction is an event')
  t.notOk(messages.some((m) => /Retrying|resumed \(attempt/.test(m)), 'no new attempt was needed')
  const pods = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs')).length
  t.ok(pods >= 1)
})

t.test('an image that cannot be pulled fails the job and removes its Job', async (t) => {
  fake.script = () => SCRIPTS.imagePullFailure
  const file = await uploadDataset(client, examples('pull'))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const name = (await jobOnCluster(job.id)).metadata!.name!
  fake.advance(NS, name)
  const failed = await waitForJob(client, job.id, ['failed', 'succeeded', 'cancelled'])
  t.equal(failed.error?.code, 'trainer_image_unavailable')
  t.match(failed.error?.message, /^The trainer could not start because its image could not be pulled: the trainer image ghcr\.io\/skillet-dev\/skillet-trainer:test could not be pulled \(ErrImagePull\)/)
  await until('the stuck Job to be deleted', () => !fake.get('jobs', NS, name))
  t.ok(deletedWithBackground(name))
})

t.test('cancel mid-run deletes the Job (propagationPolicy Background) and stops the trainer', async (t) => {
  fake.script = () => 'run-command'
  const file = await uploadDataset(client, examples('cancel'))
  fs.writeFileSync(path.join(scriptsDir, `${file.id}.json`), JSON.stringify({ steps: 10_000, stepMs: 50, checkpointEvery: 1000 }))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const name = (await jobOnCluster(job.id)).metadata!.name!
  await until('a training step', async () => (await client.fineTuning.jobs.listEvents(job.id, { limit: 50 })).data.some((e) => e.type === 'metrics'))
  const exited = fake.containerExited(NS, name)
  const cancelled = await client.fineTuning.jobs.cancel(job.id)
  t.equal(cancelled.status, 'cancelled')
  await until('the Job to be deleted', () => !fake.get('jobs', NS, name))
  t.ok(deletedWithBackground(name), 'deleted with propagationPolicy Background')
  await exited
  t.equal(fake.list('pods', NS, `skillet.dev/job-id=${job.id}`).length, 0, 'its pods went with it')
  t.equal((await client.fineTuning.jobs.retrieve(job.id)).status, 'cancelled')
})

t.test('a restarted worker finds a Job deleted while it was down and retries the job', async (t) => {
  fake.script = () => SCRIPTS.runForever
  const file = await uploadDataset(client, examples('restart'))
  const job = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const name = (await jobOnCluster(job.id)).metadata!.name!
  await waitForJob(client, job.id, ['running'])
  // The worker stops; meanwhile someone deletes the Job; the claim is older than the launch grace.
  await background.stop()
  await fetch(`${fake.url}/apis/batch/v1/namespaces/${NS}/jobs/${name}?propagationPolicy=Background`, { method: 'DELETE', headers: { authorization: 'Bearer fake-kube-token' } })
  await ctx.database.db.update(fineTuningJobs).set({ heartbeatAt: Math.floor(Date.now() / 1000) - 90 }).where(eq(fineTuningJobs.id, job.id))

  const restarted = await ctx.restartBackground()
  await restarted.kubernetes!.ready
  const after = await client.fineTuning.jobs.retrieve(job.id)
  t.equal(after.status, 'queued', 'retried')
  const messages = (await allEvents(client, job.id)).map((e) => e.message)
  t.ok(messages.some((m) => /^The trainer is gone \(its process or pod no longer exists\)\. Retrying from the start/.test(m)), messages.join('\n'))
  await client.fineTuning.jobs.cancel(job.id)
})

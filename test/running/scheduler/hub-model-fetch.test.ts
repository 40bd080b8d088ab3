// A job on an `hf:` base model: the Hub fetch runs off the scheduler's tick. While a slow transfer
// is held mid-file, the scheduler goes on launching and finishing another job, another worker's
// reaper does not take the fetching job for lost, and progress events arrive; cancelling the job
// stops the download; the next job on that model resumes from the byte the first one reached; a
// connection broken mid-file resumes with a Range request; a Hub that refuses fails the job with
// a clear error. Against the loopback fake Hub, the real scheduler and the fake trainer.
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import t from 'tap'
import { fineTuningJobs } from '../../../src/db/schema/index.ts'
import { unixNow } from '../../../src/lib/ids.ts'
import { reapLostJobs } from '../../../src/running/scheduler/reaper.ts'
import type { BlobStore } from '../../../src/storage/blob-store.ts'
import { startFakeHub } from '../../helpers/fake-hub.ts'
import { allEvents, chatExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../../helpers/jobs-test-app.ts'

const WEIGHTS = 'model.safetensors'
const TIMEOUT = 120_000

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = TIMEOUT): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function readBlob(blobs: BlobStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of await blobs.get(key)) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/** A repo name no other test (sharing the database's Hub cache) uses. */
const uniqueRepo = (name: string) => `acme/${name}-${randomBytes(4).toString('hex')}`

t.test('a slow Hub fetch runs off the tick: progress, lease kept, cancel stops it, the next job resumes it', async (t) => {
  const repo = uniqueRepo('slow')
  const weights = randomBytes(64 * 1024)
  const config = '{"model_type":"llama"}'
  const HOLD = 32 * 1024
  let holding = true
  let held = false
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  const hub = await startFakeHub(
    { [repo]: { sha: 'c0ffee', files: { 'config.json': config, [WEIGHTS]: weights } } },
    {
      throttle: { bytes: 4096, delayMs: 1 },
      gate: async (file, offset) => {
        if (file !== WEIGHTS || offset < HOLD || !holding) return
        held = true
        await released
      },
    },
  )
  t.teardown(() => hub.close())
  const heartbeatTimeout = 4
  const ctx = await startJobsApp(t, {
    env: {
      SKILLET_BASE_MODELS: `${TEST_BASE_MODEL}=/nonexistent/${TEST_BASE_MODEL},hubby=hf:${repo}`,
      SKILLET_HF_ENDPOINT: hub.endpoint,
      SKILLET_LOCAL_MAX_TRAINERS: '2',
      SKILLET_HEARTBEAT_TIMEOUT_SECONDS: String(heartbeatTimeout),
    },
  })
  const { client } = ctx
  const file = await uploadDataset(client, Array.from({ length: 10 }, (_, i) => chatExample(i)))

  const fetching = await client.fineTuning.jobs.create({ model: 'hubby', training_file: file.id })
  await until('the transfer to be held mid-file', () => held)
  await until('a progress event at the byte the transfer reached', async () => (await allEvents(client, fetching.id)).some((e) => (e.data as { bytes?: number })?.bytes === config.length + HOLD))
  const progress = (await allEvents(client, fetching.id)).filter((e) => e.message.startsWith('Fetching base model'))
  t.ok(progress.length >= 1, 'progress events')
  t.match(progress.at(-1)!.data, { repo, bytes: config.length + HOLD, total_bytes: config.length + weights.length })
  t.match(progress.at(-1)!.message, /of 0\.1 MB \(\d+%\)$/)

  const other = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: file.id })
  const otherDone = await waitForJob(client, other.id, ['succeeded', 'failed'], TIMEOUT)
  t.equal(otherDone.status, 'succeeded', 'another job was claimed, launched and finished while the fetch was held')

  const [claimed] = await ctx.database.db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, fetching.id))
  t.equal(claimed.status, 'running')
  const claimedAt = unixNow()
  await until('the heartbeat timeout to pass since the claim', () => unixNow() > claimedAt + heartbeatTimeout + 1, 60_000)
  const reaped = await reapLostJobs(ctx.database.db, { heartbeatTimeoutSeconds: heartbeatTimeout, maxAttempts: 3 })
  t.notOk(fetching.id in reaped, "another worker's reaper leaves a job whose fetch is in progress alone")
  const [still] = await ctx.database.db.select().from(fineTuningJobs).where(eq(fineTuningJobs.id, fetching.id))
  t.match(still, { status: 'running', attempts: 1 })
  t.ok((still.heartbeatAt ?? 0) >= unixNow() - heartbeatTimeout, 'its lease was renewed')

  await client.fineTuning.jobs.cancel(fetching.id)
  await until('the download to stop', () => hub.abandoned.includes(WEIGHTS))
  t.equal((await client.fineTuning.jobs.retrieve(fetching.id)).status, 'cancelled')
  t.same(await ctx.blobs.list(`models/hub/${repo}/c0ffee/${WEIGHTS}`), [], 'no half-written weights under the model')

  holding = false
  release()
  const next = await client.fineTuning.jobs.create({ model: 'hubby', training_file: file.id })
  const nextDone = await waitForJob(client, next.id, ['succeeded', 'failed'], TIMEOUT)
  t.equal(nextDone.status, 'succeeded', nextDone.error?.message ?? '')
  t.equal(hub.ranges[WEIGHTS].at(-1), `bytes=${HOLD}-`, 'the next fetch resumed from the byte the cancelled one reached')
  t.ok(Buffer.from(await readBlob(ctx.blobs, `models/hub/${repo}/c0ffee/${WEIGHTS}`)).equals(weights), 'the stored weights are the Hub bytes')
  t.same(await ctx.blobs.list(`models/hub-partial/${repo}/`), [], 'no parts left behind')
  t.ok((await allEvents(client, next.id)).some((e) => e.message.startsWith(`Fetched base model ${repo}`)), 'a done event')
})

t.test('a connection broken mid-file resumes from the byte it reached', async (t) => {
  const repo = uniqueRepo('flaky')
  const weights = randomBytes(50_000)
  const hub = await startFakeHub({ [repo]: { sha: 'beef', files: { 'config.json': '{}', [WEIGHTS]: weights } } }, { throttle: { bytes: 1000, delayMs: 0 }, breakAt: { [WEIGHTS]: 12_345 } })
  t.teardown(() => hub.close())
  const ctx = await startJobsApp(t, { env: { SKILLET_BASE_MODELS: `hubby=hf:${repo}`, SKILLET_HF_ENDPOINT: hub.endpoint } })
  const file = await uploadDataset(ctx.client, Array.from({ length: 10 }, (_, i) => chatExample(i)))
  const job = await ctx.client.fineTuning.jobs.create({ model: 'hubby', training_file: file.id })
  const done = await waitForJob(ctx.client, job.id, ['succeeded', 'failed'], TIMEOUT)
  t.equal(done.status, 'succeeded', done.error?.message ?? '')
  t.same(hub.ranges[WEIGHTS], ['', 'bytes=12345-'])
  t.ok((await readBlob(ctx.blobs, `models/hub/${repo}/beef/${WEIGHTS}`)).equals(weights))
})

t.test('a Hub that refuses a file fails the job with a clear error', async (t) => {
  const repo = uniqueRepo('gated')
  const hub = await startFakeHub({ [repo]: { sha: 'f00d', files: { 'config.json': '{}', [WEIGHTS]: 'x' } } }, { status: { [WEIGHTS]: 403 } })
  t.teardown(() => hub.close())
  const ctx = await startJobsApp(t, { env: { SKILLET_BASE_MODELS: `hubby=hf:${repo}`, SKILLET_HF_ENDPOINT: hub.endpoint } })
  const file = await uploadDataset(ctx.client, Array.from({ length: 10 }, (_, i) => chatExample(i)))
  const job = await ctx.client.fineTuning.jobs.create({ model: 'hubby', training_file: file.id })
  const done = await waitForJob(ctx.client, job.id, ['succeeded', 'failed'], TIMEOUT)
  t.equal(done.status, 'failed')
  t.match(done.error, { code: 'model_fetch_failed', param: null, message: `The base model could not be fetched from the Hugging Face Hub: Downloading ${WEIGHTS} from ${repo} failed with status 403.` })
  const events = await allEvents(ctx.client, job.id)
  t.ok(events.some((e) => e.level === 'error' && e.message === done.error!.message), 'an error event says why')
})

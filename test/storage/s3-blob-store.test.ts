import { S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { text } from 'node:stream/consumers'
import t from 'tap'
import { type S3BlobStore, createS3BlobStore } from '../../src/storage/s3-blob-store.ts'
import { MiB, generatedStream, peakRssGrowth } from '../helpers/generated-stream.ts'
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  createBucket,
  emulatorStoreOptions,
  s3Leftovers,
  startS3Emulator,
  startS3EmulatorProcess,
} from '../helpers/s3-emulator.ts'
import { blobStoreContract } from './blob-store-contract.ts'

const emulator = await startS3Emulator()
t.teardown(() => emulator.stop())

async function freshStore(opts: { prefix?: string } = {}): Promise<{ store: S3BlobStore; bucket: string }> {
  const bucket = await createBucket(emulator.endpoint)
  return { store: createS3BlobStore({ ...emulatorStoreOptions(emulator.endpoint, bucket), ...opts }), bucket }
}

/** The names of the commands a store's client sends, to see which path it took. */
function recordCommands(store: S3BlobStore): string[] {
  const sent: string[] = []
  store.client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? '?')
      return next(args)
    },
    { step: 'initialize' },
  )
  return sent
}

blobStoreContract(
  async () => {
    const { store, bucket } = await freshStore()
    return {
      store,
      leftovers: () => s3Leftovers(store, emulator.endpoint, bucket),
      close: async () => store.client.destroy(),
    }
  },
  // The emulator runs in this process and holds every byte, so RSS says nothing about the
  // store here; the child-process test below measures it.
  { bigPutBytes: 20 * MiB },
)

t.test('s3: a big put streams with flat memory (emulator in a child process)', async (t) => {
  const child = await startS3EmulatorProcess()
  t.teardown(() => child.stop())
  const store = createS3BlobStore(emulatorStoreOptions(child.endpoint, child.bucket))
  t.teardown(() => store.client.destroy())
  const { result, peakGrowthBytes } = await peakRssGrowth(() => store.put('big', generatedStream(256 * MiB)))
  t.same(result, { key: 'big', bytes: 256 * MiB })
  t.comment(`peak RSS growth: ${(peakGrowthBytes / MiB).toFixed(1)} MiB for a 256 MiB put`)
  // queueSize 4 × 8 MiB parts in flight, plus chunking copies and garbage awaiting the GC:
  // measured 50-100 MiB. A store that buffered the body would need 256 MiB and more.
  t.ok(peakGrowthBytes < 160 * MiB, `RSS grew ${(peakGrowthBytes / MiB).toFixed(1)} MiB, budget 160 MiB`)
  t.same(await store.head('big'), { key: 'big', bytes: 256 * MiB })
})

t.test('s3: abort mid-upload aborts the multipart upload it had started', async (t) => {
  const { store } = await freshStore()
  t.teardown(() => store.client.destroy())
  const sent = recordCommands(store)
  const controller = new AbortController()
  const source = generatedStream(30 * MiB, { stallAfterBytes: 20 * MiB, onStall: () => setTimeout(() => controller.abort(), 100) })
  await t.rejects(store.put('x', source, { signal: controller.signal }), { name: 'AbortError' })
  t.ok(sent.includes('CreateMultipartUploadCommand'), 'a multipart upload was under way')
  t.ok(sent.includes('UploadPartCommand'), 'with parts uploaded')
  t.ok(sent.includes('AbortMultipartUploadCommand'), 'and it was aborted')
  t.notOk(sent.includes('CompleteMultipartUploadCommand'))
})

t.test('s3: compose copies server-side when parts are ≥ 5 MiB, streams otherwise', async (t) => {
  const { store } = await freshStore()
  t.teardown(() => store.client.destroy())
  await store.put('a', Buffer.alloc(5 * MiB, 'a'))
  await store.put('b', Buffer.from('small'))
  const sent = recordCommands(store)
  await store.compose('server-side', ['a', 'a', 'b'])
  t.equal(sent.filter((c) => c === 'UploadPartCopyCommand').length, 3, 'one copied part per source')
  t.notOk(sent.includes('GetObjectCommand'), 'no bytes came through this process')
  sent.length = 0
  await store.compose('streamed', ['b', 'a'])
  t.notOk(sent.includes('UploadPartCopyCommand'), 'a small non-last source rules out copying')
  t.ok(sent.includes('GetObjectCommand'))
  t.equal(await text(await store.get('streamed', { start: 0, end: 5 })), 'smalla')
  t.same(await store.head('server-side'), { key: 'server-side', bytes: 10 * MiB + 5 })
})

t.test('s3: presigned PUT URLs carry no checksum parameters, and work', async (t) => {
  const { store } = await freshStore()
  t.teardown(() => store.client.destroy())
  const checksumParams = (url: string) =>
    [...new URL(url).searchParams.keys()].filter((k) => /^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(k))

  const url = await store.presignPut('uploads/direct.bin', 300)
  t.same(checksumParams(url), [])
  const response = await fetch(url, { method: 'PUT', body: 'uploaded directly' })
  t.equal(response.status, 200)
  t.equal(await text(await store.get('uploads/direct.bin')), 'uploaded directly')

  // Control: with the SDK's default checksum setting the same URL does carry one, which is why
  // the store configures WHEN_REQUIRED (S3 rejects the empty-body checksum on a real upload).
  const defaultClient = new S3Client({ ...emulatorStoreOptions(emulator.endpoint, 'b'), credentials: EMULATOR_CREDENTIALS, region: EMULATOR_REGION })
  t.teardown(() => defaultClient.destroy())
  const defaultUrl = await getSignedUrl(defaultClient, new PutObjectCommand({ Bucket: 'b', Key: 'k' }), { expiresIn: 300 })
  t.not(checksumParams(defaultUrl).length, 0, `default client signs ${checksumParams(defaultUrl).join(', ')}`)
})

t.test('s3: a key prefix keeps blobs in a folder of the bucket', async (t) => {
  const { store: whole, bucket } = await freshStore()
  const tenant = createS3BlobStore({ ...emulatorStoreOptions(emulator.endpoint, bucket), prefix: 'skillet/' })
  t.teardown(() => {
    whole.client.destroy()
    tenant.client.destroy()
  })
  await whole.put('outside', Buffer.from('o'))
  await tenant.put('jobs/j1/a', Buffer.from('a'))
  t.same((await whole.list('')).map((b) => b.key), ['outside', 'skillet/jobs/j1/a'])
  t.same(await tenant.list(''), [{ key: 'jobs/j1/a', bytes: 1 }])
  t.ok((await tenant.presignPut('jobs/j1/b', 60)).includes('/skillet/jobs/j1/b?'))
  await tenant.compose('jobs/j1/c', ['jobs/j1/a', 'jobs/j1/a'])
  t.equal(await text(await tenant.get('jobs/j1/c')), 'aa')
  await tenant.deletePrefix('jobs/')
  t.same((await whole.list('')).map((b) => b.key), ['outside'])
})

t.test('s3: ping fails for a missing bucket', async (t) => {
  const store = createS3BlobStore(emulatorStoreOptions(emulator.endpoint, 'no-such-bucket'))
  t.teardown(() => store.client.destroy())
  await t.rejects(store.ping())
})

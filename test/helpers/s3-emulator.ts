// An S3 for tests: fauxqs served over real HTTP on a random loopback port, with one bucket.
// startS3Emulator() runs it in this process; startS3EmulatorProcess() in a child process, for
// measurements (memory, throughput) that the emulator's own work would otherwise distort.

import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { buildApp } from 'fauxqs'
import type { BlobStore } from '../../src/storage/blob-store.ts'

export const EMULATOR_REGION = 'us-east-1'
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' }

export interface S3Emulator {
  endpoint: string
  /** A bucket created at start. */
  bucket: string
  stop(): Promise<void>
}

/** Options for createS3BlobStore that point at the emulator. */
export function emulatorStoreOptions(endpoint: string, bucket: string) {
  return { endpoint, bucket, region: EMULATOR_REGION, forcePathStyle: true, credentials: EMULATOR_CREDENTIALS }
}

export async function startS3Emulator(): Promise<S3Emulator> {
  // buildApp rather than startFauxqs: the latter listens on every interface, tests need loopback only.
  const app = buildApp({ logger: false })
  const endpoint = await app.listen({ host: '127.0.0.1', port: 0 })
  const bucket = await createBucket(endpoint)
  return { endpoint, bucket, stop: () => app.close() }
}

/** Creates a fresh, empty bucket and returns its name. */
export async function createBucket(endpoint: string, bucket = `b-${randomUUID()}`): Promise<string> {
  await withClient(endpoint, (client) => client.send(new CreateBucketCommand({ Bucket: bucket })))
  return bucket
}

/**
 * Deletes an emptied bucket and tells whether an unfinished multipart upload was in the way.
 * fauxqs has no ListMultipartUploads, but like S3 it refuses to delete a bucket that still
 * holds one; the caller must have deleted every object first.
 */
export async function deleteBucketFindingUnfinishedUploads(endpoint: string, bucket: string): Promise<boolean> {
  try {
    await withClient(endpoint, (client) => client.send(new DeleteBucketCommand({ Bucket: bucket })))
    return false
  } catch (err) {
    if ((err as Error).name === 'BucketNotEmpty') return true
    throw err
  }
}

/** What a store left in its bucket: empties it, then names an unfinished multipart upload if one is in the way. */
export async function s3Leftovers(store: BlobStore, endpoint: string, bucket: string): Promise<string[]> {
  for (const { key } of await store.list('')) await store.delete(key)
  return (await deleteBucketFindingUnfinishedUploads(endpoint, bucket)) ? ['an unfinished multipart upload'] : []
}

/** The emulator in a child process (see s3-emulator-main.ts); same shape as startS3Emulator. */
export async function startS3EmulatorProcess(): Promise<S3Emulator> {
  const main = fileURLToPath(new URL('./s3-emulator-main.ts', import.meta.url))
  const child = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  const { endpoint, bucket } = JSON.parse(line) as { endpoint: string; bucket: string }
  return {
    endpoint,
    bucket,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill()
      await once(child, 'exit')
    },
  }
}

async function withClient<T>(endpoint: string, use: (client: S3Client) => Promise<T>): Promise<T> {
  const client = new S3Client({ endpoint, region: EMULATOR_REGION, forcePathStyle: true, credentials: EMULATOR_CREDENTIALS })
  try {
    return await use(client)
  } finally {
    client.destroy()
  }
}

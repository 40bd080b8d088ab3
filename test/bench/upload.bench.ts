// Upload throughput: a generated stream (1 GiB by default) into S3 (fauxqs in a child process,
// so the emulator's CPU and memory are not this process's), once per way of uploading. The
// direct lib-storage upload is the baseline; each other way is printed as a ratio of it.
//
//   node test/bench/upload.bench.ts [bytes]
//
// The HTTP API way starts the real server (its own process, S3 blob store) and posts to /v1/files;
// its time includes the server's start-up, about a second, so use large sizes.

import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { createS3BlobStore } from '../../src/storage/s3-blob-store.ts'
import { MiB, generatedStream, peakRssGrowth } from '../helpers/generated-stream.ts'
import { emulatorStoreOptions, startS3EmulatorProcess } from '../helpers/s3-emulator.ts'
import { postFileStream } from '../helpers/multipart-upload.ts'
import { startServerProcess } from '../helpers/server-process.ts'

interface Target {
  endpoint: string
  bucket: string
  key: string
  bytes: number
}

type UploadWay = (target: Target) => Promise<void>

/** Baseline: lib-storage's Upload straight to the bucket, 8 MiB parts, 4 at a time. */
const directLibStorage: UploadWay = async ({ endpoint, bucket, key, bytes }) => {
  const { credentials, region, forcePathStyle } = emulatorStoreOptions(endpoint, bucket)
  const client = new S3Client({ endpoint, region, forcePathStyle, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' })
  try {
    const body = generatedStream(bytes)
    await new Upload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize: 8 * MiB, queueSize: 4 }).done()
  } finally {
    client.destroy()
  }
}

/** The service's S3 blob store: the same upload plus its byte counting and abort wiring. */
const blobStorePut: UploadWay = async ({ endpoint, bucket, key, bytes }) => {
  const store = createS3BlobStore(emulatorStoreOptions(endpoint, bucket))
  try {
    await store.put(key, generatedStream(bytes))
  } finally {
    store.client.destroy()
  }
}

const API_KEY = 'sk-bench-upload-0123456789abcdefghij'

/** The whole service: `node src/server.ts` (its own process, started before timing) on S3, fed over loopback HTTP. */
async function startApiOn(endpoint: string, bucket: string, bytes: number) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'skillet-bench-'))
  const { credentials } = emulatorStoreOptions(endpoint, bucket)
  const server = await startServerProcess({
    SKILLET_DATA_DIR: dataDir,
    SKILLET_API_KEY: API_KEY,
    SKILLET_S3_BUCKET: bucket,
    SKILLET_S3_ENDPOINT: endpoint,
    SKILLET_S3_FORCE_PATH_STYLE: 'true',
    SKILLET_MAX_FILE_BYTES: String(bytes + 1),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  })
  return {
    upload: (async ({ bytes }) => {
      const res = await postFileStream(server.baseURL, API_KEY, generatedStream(bytes), bytes)
      if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${res.body}`)
    }) satisfies UploadWay,
    async stop() {
      await server.stop()
      await fs.rm(dataDir, { recursive: true, force: true })
    },
  }
}

const bytes = Number(process.argv[2] ?? 1024 * MiB)
const emulator = await startS3EmulatorProcess()
const api = await startApiOn(emulator.endpoint, emulator.bucket, bytes)
const ways: Record<string, UploadWay> = {
  'direct lib-storage': directLibStorage,
  'S3BlobStore.put': blobStorePut,
  'HTTP API (POST /v1/files)': api.upload,
}
const cleaner = createS3BlobStore(emulatorStoreOptions(emulator.endpoint, emulator.bucket))
try {
  const results: { way: string; mbPerSecond: number }[] = []
  for (const [way, upload] of Object.entries(ways)) {
    const key = `bench/${way.replace(/[^A-Za-z0-9]+/g, '-')}`
    const started = performance.now()
    const cpuBefore = process.cpuUsage()
    const { peakGrowthBytes } = await peakRssGrowth(() => upload({ ...emulator, key, bytes }))
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const clientCpuSeconds = (cpu.user + cpu.system) / 1e6
    const mbPerSecond = bytes / 1e6 / seconds
    results.push({ way, mbPerSecond })
    const ratio = mbPerSecond / results[0].mbPerSecond
    console.log(
      `${way.padEnd(28)} ${(bytes / MiB).toFixed(0)} MiB in ${seconds.toFixed(2)} s = ${mbPerSecond.toFixed(1)} MB/s` +
        `  (×${ratio.toFixed(2)} of baseline; client CPU ${clientCpuSeconds.toFixed(1)} s,` +
        ` client peak RSS +${(peakGrowthBytes / MiB).toFixed(0)} MiB)`,
    )
    // Free the emulator's copy before the next run.
    await cleaner.delete(key)
  }
} finally {
  cleaner.client.destroy()
  await api.stop()
  await emulator.stop()
}

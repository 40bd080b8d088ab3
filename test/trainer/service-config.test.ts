// The service trainer's settings: read from the environment in one place, checked all at once, and
// a trainer started with bad ones exits with the bad-input code Kubernetes treats as fatal.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { TrainerJobSpec } from '../../src/protocol/trainer-job-spec.ts'
import { DEFAULT_BAD_INPUT_EXIT_CODE } from '../../src/config/kubernetes-executor-config.ts'
import { blobStoreEnv } from '../../src/config/blob-store-env.ts'
import { TRAINER_EXIT } from '../../src/trainer/service/exit-codes.ts'
import { loadTrainerConfig, TrainerConfigError } from '../../src/trainer/service/trainer-config.ts'

const CLI = fileURLToPath(new URL('../../src/cli/trainer.ts', import.meta.url))

const spec: TrainerJobSpec = {
  jobId: 'ftjob-abc',
  projectId: 'proj-1',
  model: { id: 'skillet-tiny-llama', source: { kind: 'blob', prefix: 'models/hub/x/' } },
  trainingFile: { id: 'file-1', blobKey: 'files/proj-1/file-1' },
  validationFile: null,
  method: { type: 'dpo', nEpochs: 2, batchSize: 4, learningRateMultiplier: 0.1, beta: 0.1 },
  seed: 42,
  outputPrefix: 'jobs/proj-1/ftjob-abc/',
  callbackUrl: 'http://127.0.0.1:8080/internal/v1',
  attempt: 2,
}
const env = (extra: Record<string, string> = {}) => ({ SKILLET_JOB_SPEC: JSON.stringify(spec), SKILLET_JOB_TOKEN: 'tok', ...extra })

t.test('a valid environment', async (t) => {
  const c = loadTrainerConfig(env({ SKILLET_DATA_DIR: '/srv/skillet' }))
  t.same(c.spec, spec)
  t.equal(c.callbackUrl, spec.callbackUrl, 'the spec gives the callback URL unless SKILLET_CALLBACK_URL does')
  t.same(c.blobStore, { kind: 'fs', root: '/srv/skillet/blobs' }, 'the API\'s filesystem store')
  t.same(c.backend, { requested: 'auto', requireGpu: false, threads: 'auto', matmul: 'auto' })
  t.equal(c.gguf, 'F16', 'GGUF F16 by default')
  t.equal(c.heartbeatSeconds, 10)
  t.equal(c.parentPid, null)
  t.equal(c.gradientCheckpointing, 'auto', 'gradient checkpointing when a step needs it, by default')
  t.equal(loadTrainerConfig(env({ SKILLET_TRAINER_GRADIENT_CHECKPOINTING: 'on' })).gradientCheckpointing, 'on')
  t.equal(loadTrainerConfig(env({ SKILLET_TRAINER_GRADIENT_CHECKPOINTING: 'false' })).gradientCheckpointing, 'off')
  const badCheckpointing = t.throws(() => loadTrainerConfig(env({ SKILLET_TRAINER_GRADIENT_CHECKPOINTING: 'sometimes' }))) as TrainerConfigError
  t.match(badCheckpointing.problems, [/^SKILLET_TRAINER_GRADIENT_CHECKPOINTING must be auto, on or off \(got "sometimes"\)/])

  const s3 = loadTrainerConfig(env({ SKILLET_S3_BUCKET: 'b', SKILLET_S3_ENDPOINT: 'http://minio:9000', SKILLET_S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'eu-west-1',
    SKILLET_CALLBACK_URL: 'http://api:8080/internal/v1', SKILLET_TRAINER_BACKEND: 'wasm', SKILLET_TRAINER_GGUF_TYPE: 'none', SKILLET_PARENT_PID: '123', SKILLET_TRAINER_THREADS: '3' }))
  t.same(s3.blobStore, { kind: 's3', bucket: 'b', endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: true, prefix: '' })
  t.equal(s3.callbackUrl, 'http://api:8080/internal/v1')
  t.equal(s3.backend.requested, 'wasm')
  t.equal(s3.backend.threads, 3, 'SKILLET_TRAINER_THREADS sets the wasm backend\'s threads')
  const badThreads = t.throws(() => loadTrainerConfig(env({ SKILLET_TRAINER_THREADS: 'many' }))) as TrainerConfigError
  t.match(badThreads.problems, [/^SKILLET_TRAINER_THREADS must be auto or an integer of at least 1 \(got "many"\)/])
  t.equal(s3.gguf, null)
  t.equal(s3.parentPid, 123)
})

t.test('the blob store settings the executor passes are the ones the trainer reads', async (t) => {
  const fsConfig = loadTrainerConfig(env(blobStoreEnv({ dataDir: '/data/x', s3: undefined })))
  t.same(fsConfig.blobStore, { kind: 'fs', root: '/data/x/blobs' })
  const s3 = { bucket: 'bk', endpoint: 'http://s3:9000', region: 'us-west-2', forcePathStyle: true, prefix: 'pre' }
  t.same(loadTrainerConfig(env(blobStoreEnv({ dataDir: '/data/x', s3 }))).blobStore, { kind: 's3', ...s3 })
})

t.test('the trainer checks the blob store settings as the API does (one reader)', async (t) => {
  const err = t.throws(() => loadTrainerConfig(env({ SKILLET_S3_ENDPOINT: 'http://minio:9000' }))) as TrainerConfigError
  t.match(err.problems, [/^SKILLET_S3_ENDPOINT is set but SKILLET_S3_BUCKET is not/])
  const bad = t.throws(() => loadTrainerConfig(env({ SKILLET_S3_BUCKET: 'b', SKILLET_S3_ENDPOINT: 'minio:9000' }))) as TrainerConfigError
  t.match(bad.problems.join('\n'), /SKILLET_S3_ENDPOINT/)
})

t.test('every problem is reported at once', async (t) => {
  const bad = { ...spec, method: { ...spec.method, nEpochs: 0 }, model: { id: 'm', source: { kind: 'hub', repo: 'x/y' } } }
  const err = t.throws(() => loadTrainerConfig({ SKILLET_JOB_SPEC: JSON.stringify(bad), SKILLET_TRAINER_GGUF_TYPE: 'Q4', SKILLET_TRAINER_HEARTBEAT_SECONDS: '0' })) as TrainerConfigError
  t.ok(err instanceof TrainerConfigError)
  t.match(err.problems.join('\n'), /SKILLET_JOB_TOKEN is not set/)
  t.match(err.problems.join('\n'), /SKILLET_JOB_SPEC\/model\/source/)
  t.match(err.problems.join('\n'), /SKILLET_JOB_SPEC\/method/)
  t.match(err.problems.join('\n'), /SKILLET_TRAINER_GGUF_TYPE/)
  t.match(err.problems.join('\n'), /SKILLET_TRAINER_HEARTBEAT_SECONDS/)
  t.throws(() => loadTrainerConfig({ SKILLET_JOB_SPEC: '{not json', SKILLET_JOB_TOKEN: 't' }), /not valid JSON/)
})

t.test('a trainer started with a bad spec exits with the bad-input code', async (t) => {
  t.equal(TRAINER_EXIT.badInput, DEFAULT_BAD_INPUT_EXIT_CODE, 'the code the Kubernetes podFailurePolicy fails the Job on')
  const run = spawnSync(process.execPath, [CLI], { env: { PATH: process.env.PATH, SKILLET_JOB_SPEC: '{"jobId": 3}', SKILLET_JOB_TOKEN: 't' }, encoding: 'utf8', cwd: path.dirname(CLI) })
  t.equal(run.status, TRAINER_EXIT.badInput, run.stderr)
  t.match(run.stderr, /invalid trainer configuration/)
  t.match(run.stderr, /SKILLET_JOB_SPEC\/jobId: must be string/)
})

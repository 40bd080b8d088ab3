import t from 'tap'
import path from 'node:path'
import { ConfigError, loadConfig } from '../../src/config/index.ts'

t.test('defaults describe the embedded mode', async (t) => {
  const c = loadConfig({})
  t.equal(c.port, 8080)
  t.equal(c.databaseUrl, undefined, 'no DATABASE_URL: PGlite')
  t.equal(c.s3, undefined, 'no bucket: local files')
  t.equal(c.dataDir, path.resolve('./data'))
  t.equal(c.maxFileBytes, 512_000_000)
  t.equal(c.maxUploadBytes, 8_000_000_000)
})

t.test('every bad value is reported at once, secrets are not echoed', async (t) => {
  const err = (() => {
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        SKILLET_API_KEY: 'hunter2',
        SKILLET_MAX_FILE_BYTES: '12 parsecs',
        SKILLET_LOG_LEVEL: 'loud',
        SKILLET_S3_ENDPOINT: 'http://minio:9000',
      })
    } catch (e) {
      return e
    }
  })()
  t.ok(err instanceof ConfigError)
  const problems = (err as ConfigError).problems
  t.equal(problems.length, 6, problems.join('\n'))
  t.match(problems.join('\n'), /PORT must be an integer/)
  t.match(problems.join('\n'), /DATABASE_URL must start with postgres:\/\//)
  t.match(problems.join('\n'), /SKILLET_MAX_FILE_BYTES must be a byte count/)
  t.match(problems.join('\n'), /SKILLET_S3_ENDPOINT is set but SKILLET_S3_BUCKET is not/)
  t.notMatch((err as Error).message, /hunter2/, 'the key itself is never printed')
})

t.test('S3 settings and byte units', async (t) => {
  const c = loadConfig({ SKILLET_S3_BUCKET: 'b', SKILLET_S3_ENDPOINT: 'http://127.0.0.1:9000', SKILLET_S3_FORCE_PATH_STYLE: 'true', SKILLET_MAX_FILE_BYTES: '2GiB' })
  t.same(c.s3, { bucket: 'b', endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true, prefix: '' })
  t.equal(c.maxFileBytes, 2 * 1024 ** 3)
})

t.test('warm trainers: one standby with Skillet\'s trainer, none with another command unless asked', async (t) => {
  t.equal(loadConfig({}).jobs.warmTrainers, 1)
  t.equal(loadConfig({ SKILLET_WARM_TRAINERS: '0' }).jobs.warmTrainers, 0)
  t.equal(loadConfig({ SKILLET_TRAINER_COMMAND: 'python train.py' }).jobs.warmTrainers, 0)
  t.equal(loadConfig({ SKILLET_TRAINER_COMMAND: 'python train.py', SKILLET_WARM_TRAINERS: '2' }).jobs.warmTrainers, 2)
  t.throws(() => loadConfig({ SKILLET_WARM_TRAINERS: '-1' }), /SKILLET_WARM_TRAINERS/)
})

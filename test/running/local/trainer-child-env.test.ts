// A local trainer child sees an allow-list of the server's environment: never the admin key, the
// database URL, the HF token; AWS settings only with the S3 blob store.
import fs from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import t from 'tap'
import { LocalExecutor } from '../../../src/running/local/local-executor.ts'
import { trainerChildEnv } from '../../../src/running/local/trainer-child-env.ts'
import type { LaunchRequest } from '../../../src/running/executor/executor.ts'
import { SERVER_SECRETS } from '../../helpers/server-secrets.ts'
import { tmpDir } from '../../helpers/test-app.ts'

t.test('trainerChildEnv: allow-list, job settings win, AWS only with S3', async (t) => {
  const inherited = { ...SERVER_SECRETS, PATH: '/bin', HOME: '/home/x', SKILLET_TRAINER_BACKEND: 'wasm', VK_ICD_FILENAMES: '/icd.json', RANDOM_THING: 'x' }
  const fsEnv = trainerChildEnv(inherited, { blobStore: 'fs', set: { SKILLET_JOB_TOKEN: 'sktr_x', SKILLET_DATA_DIR: '/data' } })
  t.same(fsEnv, { PATH: '/bin', HOME: '/home/x', SKILLET_TRAINER_BACKEND: 'wasm', VK_ICD_FILENAMES: '/icd.json', SKILLET_JOB_TOKEN: 'sktr_x', SKILLET_DATA_DIR: '/data' })
  const s3Env = trainerChildEnv(inherited, { blobStore: 's3', set: {} })
  t.equal(s3Env.AWS_SECRET_ACCESS_KEY, 'aws-secret', 'the trainer reads S3 itself: it needs the credentials')
  for (const name of ['SKILLET_API_KEY', 'DATABASE_URL', 'SKILLET_HF_TOKEN', 'HF_TOKEN', 'SKILLET_METRICS_TOKEN']) t.notOk(name in s3Env, `${name} never passes`)
})

t.test('a real trainer child process gets only the allow-list', async (t) => {
  const dir = await tmpDir(t)
  const out = path.join(dir, 'env.json')
  const saved = { ...process.env }
  Object.assign(process.env, SERVER_SECRETS)
  t.teardown(() => {
    for (const name of Object.keys(SERVER_SECRETS)) delete process.env[name]
    Object.assign(process.env, saved)
  })
  const executor = new LocalExecutor({
    command: [process.execPath, '-e', 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))', out],
    maxConcurrent: 1,
    log: pino({ level: 'silent' }),
    env: { SKILLET_DATA_DIR: dir },
  })
  const spec = { jobId: 'ftjob-env', projectId: 'proj_x', attempt: 1, callbackUrl: 'http://127.0.0.1:1/internal/v1' } as unknown as LaunchRequest['spec']
  await executor.launch({ spec, token: 'sktr_child' })
  while ((await executor.observe('ftjob-env')).phase === 'running') await new Promise((r) => setTimeout(r, 20))
  t.equal((await executor.observe('ftjob-env')).phase, 'succeeded')
  const env = JSON.parse(fs.readFileSync(out, 'utf8'))
  for (const name of Object.keys(SERVER_SECRETS)) t.notOk(name in env, `${name} is not in the child's environment`)
  t.equal(env.SKILLET_JOB_TOKEN, 'sktr_child')
  t.equal(env.SKILLET_DATA_DIR, dir)
  t.equal(env.PATH, process.env.PATH)
})

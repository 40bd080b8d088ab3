// The local executor's standby trainers, with the real trainer (`node src/cli/trainer.ts` waiting
// for its job on IPC): their environment is a trainer's allow-list (no API key, database URL, HF
// token), a dead one is replaced, close() stops them, and a job whose trainer environment differs
// from the standby's (another thread count) starts a trainer of its own.
import { Writable } from 'node:stream'
import pino from 'pino'
import t, { type Test } from 'tap'
import type { LaunchRequest } from '../../../src/running/executor/executor.ts'
import { LocalExecutor, type LocalExecutorOptions } from '../../../src/running/local/local-executor.ts'
import { REAL_TRAINER } from '../../helpers/real-trainer-app.ts'
import { alive, environOf } from '../../helpers/processes.ts'
import { SERVER_SECRETS } from '../../helpers/server-secrets.ts'
import { tmpDir } from '../../helpers/test-app.ts'
import { until } from '../../helpers/until.ts'

const readyPid = (executor: LocalExecutor, not?: number) => until('a ready standby', () => executor.standbyProcesses.find((p) => p.ready && p.pid !== not)?.pid, 120_000)

function executor(t: Test, dir: string, more: Partial<LocalExecutorOptions> = {}): LocalExecutor {
  const e = new LocalExecutor({ command: [process.execPath, REAL_TRAINER], maxConcurrent: 1, warmTrainers: 1, log: pino({ level: 'silent' }), env: { SKILLET_DATA_DIR: dir, SKILLET_TRAINER_BACKEND: 'wasm' }, ...more })
  t.teardown(() => e.close())
  return e
}

t.test('a standby gets only the trainer allow-list of the server environment, and close() stops it', async (t) => {
  const dir = await tmpDir(t)
  const saved = { ...process.env }
  Object.assign(process.env, SERVER_SECRETS)
  t.teardown(() => {
    for (const name of Object.keys(SERVER_SECRETS)) delete process.env[name]
    Object.assign(process.env, saved)
  })
  const e = executor(t, dir)
  const pid = await readyPid(e)
  const env = environOf(pid)
  for (const name of Object.keys(SERVER_SECRETS)) t.notOk(name in env, `${name} is not in the standby's environment`)
  t.notOk('SKILLET_JOB_TOKEN' in env || 'SKILLET_JOB_SPEC' in env, 'no job yet')
  t.equal(env.SKILLET_PARENT_PID, String(process.pid), 'it stops with this server')
  t.equal(env.SKILLET_DATA_DIR, dir, "the executor's settings")
  t.equal(env.PATH, process.env.PATH)
  t.equal(e.running, 0, 'a standby is no running trainer')
  await e.close()
  t.notOk(alive(pid), 'close() stopped the standby')
  t.same(e.standbyProcesses, [], 'and started none after')
})

t.test('a standby that dies is replaced', async (t) => {
  const e = executor(t, await tmpDir(t))
  const first = await readyPid(e)
  process.kill(first, 'SIGKILL')
  const second = await readyPid(e, first)
  t.not(second, first, `standby ${first} killed, ${second} ready in its place`)
  t.equal(e.standbyProcesses.length, 1, 'still one standby')
})

t.test('a job whose trainer environment differs from the standby\'s starts a trainer of its own', async (t) => {
  const lines: Record<string, unknown>[] = []
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } }))
  const saved = process.env.SKILLET_TRAINER_THREADS
  t.teardown(() => {
    if (saved === undefined) delete process.env.SKILLET_TRAINER_THREADS
    else process.env.SKILLET_TRAINER_THREADS = saved
  })
  process.env.SKILLET_TRAINER_THREADS = '1'
  const e = executor(t, await tmpDir(t), { log })
  const standby = await readyPid(e)
  t.equal(environOf(standby).SKILLET_TRAINER_THREADS, '1')
  process.env.SKILLET_TRAINER_THREADS = '2'
  // Nothing answers on the callback URL: the trainer fails on its own; only how it started matters here.
  const spec = { jobId: 'ftjob-threads', projectId: 'proj_x', attempt: 1, callbackUrl: 'http://127.0.0.1:1/internal/v1' } as unknown as LaunchRequest['spec']
  await e.launch({ spec, token: 'sktr_x' })
  t.match(lines.find((l) => l.msg === 'trainer started' || l.msg === 'trainer started (standby)'), { jobId: 'ftjob-threads', warm: false }, 'the job started cold')
  t.notOk(e.standbyProcesses.some((p) => p.pid === standby), 'the standby with one thread left the pool')
  await until('the old standby to stop', () => !alive(standby), 30_000)
  const next = await readyPid(e, standby)
  t.equal(environOf(next).SKILLET_TRAINER_THREADS, '2', 'the new standby has the new setting')
  await e.cancel('ftjob-threads')
})

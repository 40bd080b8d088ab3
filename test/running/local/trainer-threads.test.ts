// Local trainers share the cores: with more than one allowed at once, each child's
// SKILLET_TRAINER_THREADS is its share (trainer-threads.ts); an operator's own setting passes as is.
import fs from 'node:fs'
import path from 'node:path'
import pino from 'pino'
import t, { type Test } from 'tap'
import { LocalExecutor } from '../../../src/running/local/local-executor.ts'
import { sharedTrainerThreads } from '../../../src/running/local/trainer-threads.ts'
import { cpuBudget } from '../../../src/trainer/backend/cpu-budget.ts'
import type { LaunchRequest } from '../../../src/running/executor/executor.ts'
import { tmpDir } from '../../helpers/test-app.ts'

t.test('sharedTrainerThreads', async (t) => {
  t.equal(sharedTrainerThreads(undefined, 1, 16), null, 'one trainer: its own default (every core)')
  t.equal(sharedTrainerThreads(undefined, 2, 16), '8', 'two trainers on 16 cores: 8 each')
  t.equal(sharedTrainerThreads('', 3, 16), '5', 'an empty setting is no setting; the share rounds down')
  t.equal(sharedTrainerThreads(undefined, 4, 2), '1', 'more trainers than cores: 1 each')
  t.equal(sharedTrainerThreads('6', 4, 16), null, "the operator's count stays")
  t.equal(sharedTrainerThreads('auto', 4, 16), null, "the operator's auto stays")
})

async function childThreads(t: Test, maxConcurrent: number): Promise<string | undefined> {
  const dir = await tmpDir(t)
  const out = path.join(dir, 'env.json')
  const executor = new LocalExecutor({
    command: [process.execPath, '-e', 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))', out],
    maxConcurrent,
    log: pino({ level: 'silent' }),
  })
  const spec = { jobId: 'ftjob-threads', projectId: 'proj_x', attempt: 1, callbackUrl: 'http://127.0.0.1:1/internal/v1' } as unknown as LaunchRequest['spec']
  await executor.launch({ spec, token: 'sktr_child' })
  while ((await executor.observe('ftjob-threads')).phase === 'running') await new Promise((r) => setTimeout(r, 20))
  await executor.close()
  return JSON.parse(fs.readFileSync(out, 'utf8')).SKILLET_TRAINER_THREADS
}

t.test('a real child of an executor allowing 2 trainers gets half the cores', async (t) => {
  const saved = process.env.SKILLET_TRAINER_THREADS
  delete process.env.SKILLET_TRAINER_THREADS
  t.teardown(() => { if (saved !== undefined) process.env.SKILLET_TRAINER_THREADS = saved })
  t.equal(await childThreads(t, 2), String(Math.max(1, Math.floor(cpuBudget() / 2))))
  t.equal(await childThreads(t, 1), undefined, 'one trainer: no setting (auto)')
})

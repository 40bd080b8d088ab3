// The Postgres queue: concurrent claimers never take the same job, the limits hold, rows locked by
// someone else are skipped rather than waited for, and retries wait for run_after.
import t, { type Test } from 'tap'
import { eq, sql } from 'drizzle-orm'
import { fineTuningJobs } from '../../../src/db/schema/index.ts'
import { ensureProject } from '../../../src/services/projects.ts'
import { claimNextJob } from '../../../src/running/scheduler/claim.ts'
import { unixNow } from '../../../src/lib/ids.ts'
import { openTestDatabase, testDriver } from '../../helpers/test-database.ts'
import type { Db } from '../../../src/db/database.ts'

async function queueJobs(db: Db, projectId: string, n: number, runAfter = unixNow()): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `ftjob-test${projectId.slice(-6)}${String(i).padStart(4, '0')}${Math.random().toString(36).slice(2, 8)}`)
  await db.insert(fineTuningJobs).values(
    ids.map((id) => ({
      id,
      projectId,
      model: 'm',
      trainingFile: 'file-x',
      seed: 1,
      method: { type: 'supervised' as const, supervised: { hyperparameters: {} } },
      resolvedHyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 0.1 },
      status: 'queued',
      createdAt: unixNow(),
      runAfter,
    })),
  )
  return ids
}

t.test('claims', async (t) => {
  const database = await openTestDatabase(t)
  const db = database.db
  const a = await ensureProject(db, 'a')
  const b = await ensureProject(db, 'b')

  const limits = { maxRunning: 7, maxRunningPerProject: 4 }
  const claimer = async (owner: string) => {
    const got: string[] = []
    for (;;) {
      const c = await claimNextJob(db, owner, limits)
      if (!c) return got
      got.push(c.job.id)
    }
  }
  const checkLimits = async (t: Test, all: string[], owners: string[]) => {
    t.equal(new Set(all).size, all.length, 'no job claimed twice')
    t.equal(all.length, 7, 'the global limit holds')
    const rows = await db.select().from(fineTuningJobs).where(eq(fineTuningJobs.status, 'running'))
    t.equal(rows.length, 7)
    const perProject = rows.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.projectId]: (acc[r.projectId] ?? 0) + 1 }), {})
    t.ok(Object.values(perProject).every((n) => n <= 4), `per-project limit holds: ${JSON.stringify(perProject)}`)
    t.ok(rows.every((r) => r.attempts === 1 && r.trainerTokenHash && r.heartbeatAt && owners.includes(r.leaseOwner ?? '')))
    await db.update(fineTuningJobs).set({ status: 'succeeded' })
  }

  t.test('the global and per-project limits hold', async (t) => {
    await queueJobs(db, a.id, 10)
    await queueJobs(db, b.id, 10)
    await checkLimits(t, await claimer('one'), ['one'])
  })

  // PGlite is one connection: its transactions cannot interleave, so this could not fail there.
  t.test('two concurrent claimers never claim one job twice; limits hold', { skip: testDriver() === 'pglite' ? 'PGlite is one connection: claims cannot interleave' : false }, async (t) => {
    await queueJobs(db, a.id, 10)
    await queueJobs(db, b.id, 10)
    const [one, two] = await Promise.all([claimer('one'), claimer('two')])
    await checkLimits(t, [...one, ...two], ['one', 'two'])
  })

  t.test('oldest runnable first; run_after in the future waits', async (t) => {
    const [later] = await queueJobs(db, a.id, 1, unixNow() + 3600)
    const [now] = await queueJobs(db, a.id, 1)
    const c = await claimNextJob(db, 'x', { maxRunning: 10, maxRunningPerProject: 10 })
    t.equal(c?.job.id, now)
    t.equal(await claimNextJob(db, 'x', { maxRunning: 10, maxRunningPerProject: 10 }), null, `${later} is not due yet`)
    await db.update(fineTuningJobs).set({ status: 'succeeded' })
  })

  t.test('a row locked by another transaction is skipped, not waited for', { skip: testDriver() === 'pglite' ? 'PGlite is one connection: no second transaction can hold a lock' : false }, async (t) => {
    const [first, second] = await queueJobs(db, b.id, 2)
    let release!: () => void
    let locked!: () => void
    const isLocked = new Promise<void>((r) => (locked = r))
    const holder = db.transaction(async (tx) => {
      await tx.execute(sql`select id from fine_tuning_jobs where id = ${first} for update`)
      locked()
      await new Promise<void>((r) => (release = r))
    })
    await isLocked
    const c = await claimNextJob(db, 'y', { maxRunning: 10, maxRunningPerProject: 10 })
    t.equal(c?.job.id, second, 'the locked first job was skipped')
    release()
    await holder
  })
})

// insertJobWithEvents writes a job and its first events in one statement: the row comes back as
// drizzle maps it, nullable jsonb stays SQL NULL, events keep their order, and a failure writes nothing.
import t from 'tap'
import { and, eq, isNull, sql } from 'drizzle-orm'
import { openTestDatabase } from '../helpers/test-database.ts'
import { files, fineTuningJobs, jobEvents } from '../../src/db/schema/index.ts'
import { createApiKey } from '../../src/services/projects.ts'
import { insertJobWithEvents } from '../../src/jobs/insert-job.ts'

t.test('a job and its events, in one statement', async (t) => {
  const database = await openTestDatabase(t)
  await database.migrate()
  const { db } = database
  const { projectId } = await createApiKey(db, { project: 'insert-job' })
  await db.insert(files).values({ id: 'file-a', projectId, filename: 'a.jsonl', purpose: 'fine-tune', bytes: 1, status: 'processed', blobKey: 'a', createdAt: 1 })
  const job = (id: string, extra: Partial<Parameters<typeof insertJobWithEvents>[1]> = {}) => ({
    id,
    projectId,
    model: 'm',
    trainingFile: 'file-a',
    validationFile: null,
    suffix: null,
    seed: 7,
    metadata: null,
    method: { type: 'supervised' as const, supervised: { hyperparameters: { n_epochs: 'auto' as const } } },
    integrations: null,
    dryRun: false,
    status: 'validating_files',
    fineTunedModel: `ft:m:insert-job::${id}`,
    createdAt: 100,
    runAfter: 100,
    ...extra,
  })

  const plain = await insertJobWithEvents(db, job('ftjob-plain'), [
    { message: 'first', idempotencyKey: 'created' },
    { message: 'second', idempotencyKey: 'validating-training' },
  ])
  t.equal(plain.id, 'ftjob-plain')
  t.equal(plain.seed, 7)
  t.same(plain.method, { type: 'supervised', supervised: { hyperparameters: { n_epochs: 'auto' } } })
  t.same(plain.resultFiles, [], 'column defaults are applied')
  t.equal(plain.attempts, 0)
  const nulls = await db.select({ id: fineTuningJobs.id }).from(fineTuningJobs).where(and(isNull(fineTuningJobs.metadata), isNull(fineTuningJobs.integrations)))
  t.same(nulls, [{ id: 'ftjob-plain' }], 'null metadata and integrations are SQL NULL, not JSON null')

  const tagged = await insertJobWithEvents(db, job('ftjob-tagged', { metadata: { team: 'a' }, integrations: [{ type: 'wandb' }] }), [
    { message: 'one', idempotencyKey: 'created' },
    { message: 'two', idempotencyKey: 'validating-training' },
    { message: 'three', idempotencyKey: 'validating-validation' },
  ])
  t.same(tagged.metadata, { team: 'a' })
  t.same(tagged.integrations, [{ type: 'wandb' }])
  const containing = await db.select({ id: fineTuningJobs.id }).from(fineTuningJobs).where(sql`${fineTuningJobs.metadata} @> '{"team":"a"}'::jsonb`)
  t.same(containing, [{ id: 'ftjob-tagged' }], 'metadata is stored as a jsonb object')
  const events = await db.select().from(jobEvents).where(eq(jobEvents.jobId, 'ftjob-tagged')).orderBy(jobEvents.seq)
  t.same(
    events.map((e) => [e.message, e.idempotencyKey, e.level, e.type, e.createdAt]),
    [
      ['one', 'created', 'info', 'message', 100],
      ['two', 'validating-training', 'info', 'message', 100],
      ['three', 'validating-validation', 'info', 'message', 100],
    ],
  )

  // A duplicate id fails the whole statement: no second set of events appears.
  await t.rejects(insertJobWithEvents(db, job('ftjob-plain'), [{ message: 'again', idempotencyKey: 'x' }, { message: 'again', idempotencyKey: 'y' }]))
  const plainEvents = await db.select().from(jobEvents).where(eq(jobEvents.jobId, 'ftjob-plain'))
  t.equal(plainEvents.length, 2)
})

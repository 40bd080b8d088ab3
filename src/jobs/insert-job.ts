// A new job row and its first events, written by one prepared statement: two data-modifying CTEs,
// atomic as any single statement is. It replaces begin / insert job / insert events / commit, which
// cost four round trips and two fresh drizzle query builds per created job.
import { sql } from 'drizzle-orm'
import type { Db } from '../db/database.ts'
import { preparedPerDb } from '../db/prepared-statements.ts'
import { fineTuningJobs, jobEvents } from '../db/schema/index.ts'
import type { JobRow } from './job-object.ts'
import { jobIds } from './naming.ts'

type NewJob = Pick<
  typeof fineTuningJobs.$inferInsert,
  'id' | 'projectId' | 'model' | 'trainingFile' | 'validationFile' | 'suffix' | 'seed' | 'metadata' | 'method' | 'integrations' | 'dryRun' | 'status' | 'fineTunedModel' | 'createdAt' | 'runAfter'
>

export interface FirstEvent {
  message: string
  /** A retried report with the same key is ignored (unique per job), as in job-store's addEvents. */
  idempotencyKey: string
}

const JOB_FIELDS = ['id', 'projectId', 'model', 'trainingFile', 'validationFile', 'suffix', 'seed', 'metadata', 'method', 'integrations', 'dryRun', 'status', 'fineTunedModel', 'createdAt', 'runAfter'] as const

// Nullable jsonb columns take their value as text cast in SQL: a placeholder bound to a jsonb column
// would encode null as the JSON value null, where the column wants SQL NULL.
const NULLABLE_JSON_FIELDS = new Set<string>(['metadata', 'integrations'])

function buildStatement(db: Db, eventCount: number) {
  const job = Object.fromEntries(
    JOB_FIELDS.map((field) => [field, NULLABLE_JSON_FIELDS.has(field) ? sql`${sql.placeholder(field)}::jsonb` : sql.placeholder(field)]),
  ) as unknown as NewJob
  const createdJob = db.$with('created_job').as(db.insert(fineTuningJobs).values(job).returning())
  const events = Array.from({ length: eventCount }, (_, i) => ({
    id: sql.placeholder(`event${i}Id`),
    jobId: sql.placeholder('id'),
    createdAt: sql.placeholder('createdAt'),
    level: 'info',
    message: sql.placeholder(`event${i}Message`),
    type: 'message',
    data: {},
    idempotencyKey: sql.placeholder(`event${i}Key`),
  })) as unknown as (typeof jobEvents.$inferInsert)[]
  const createdEvents = db.$with('created_events').as(db.insert(jobEvents).values(events).onConflictDoNothing().returning({ id: jobEvents.id }))
  return db.with(createdJob, createdEvents).select().from(createdJob).prepare(`skillet_insert_job_${eventCount}_events`)
}

// One statement per event count: a job has two first events, three with a validation file.
const statements = new Map<number, (db: Db) => ReturnType<typeof buildStatement>>()

/** Inserts `job` with `events` (all level info, type message, created with the job); returns the stored row. */
export async function insertJobWithEvents(db: Db, job: NewJob, events: FirstEvent[]): Promise<JobRow> {
  let statement = statements.get(events.length)
  if (!statement) {
    statement = preparedPerDb((d) => buildStatement(d, events.length))
    statements.set(events.length, statement)
  }
  const values: Record<string, unknown> = { ...job }
  for (const field of NULLABLE_JSON_FIELDS) values[field] = values[field] == null ? null : JSON.stringify(values[field])
  events.forEach((event, i) => {
    values[`event${i}Id`] = jobIds.event()
    values[`event${i}Message`] = event.message
    values[`event${i}Key`] = event.idempotencyKey
  })
  const [row] = await statement(db).execute(values)
  return row as JobRow
}

// Webhooks: endpoints a project registers, the transactional outbox of events, one delivery per
// endpoint per event, and every attempt made to deliver it. Timestamps are unix seconds.
import { sql } from 'drizzle-orm'
import { bigint, bigserial, index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { projects } from './core.ts'

const unixSeconds = (name: string) => bigint(name, { mode: 'number' })

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    /** Insertion order, for stable cursor pagination. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    url: text('url').notNull(),
    eventTypes: text('event_types').array().notNull(),
    /**
     * The signing secret (`whsec_…`). Kept in clear: signing needs the secret itself, not a hash.
     * The API shows it only when it is created or rotated.
     */
    secret: text('secret').notNull(),
    /** After a rotation that keeps the old secret for a while, deliveries are signed with both. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: unixSeconds('previous_secret_expires_at'),
    /** enabled | disabled (a receiver answered 410 Gone, or the owner disabled it). */
    status: text('status').notNull(),
    disabledReason: text('disabled_reason'),
    createdAt: unixSeconds('created_at').notNull(),
    updatedAt: unixSeconds('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_project_seq_idx').on(t.projectId, t.seq)],
)

/** The outbox: written in the same transaction as the state change it announces. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    /** `evt_…`, the payload's `id`. */
    id: text('id').primaryKey(),
    projectId: text('project_id')
      .notNull()
      .references(() => projects.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    /** The exact JSON sent, so every attempt sends the same bytes. */
    body: text('body').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
  },
  (t) => [index('webhook_events_project_idx').on(t.projectId, t.createdAt)],
)

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    /** `wh_…`: the `webhook-id` header, the same on every attempt of this delivery. */
    id: text('id').primaryKey(),
    eventId: text('event_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** pending → delivered | failed (gave up, or the endpoint is gone). */
    status: text('status').notNull(),
    /** Attempts started so far, including one in flight. */
    attempts: integer('attempts').notNull().default(0),
    /**
     * When a dispatcher may next claim it. While an attempt is in flight this is the end of its lease,
     * so a dispatcher that dies mid-attempt leaves a delivery another one picks up.
     */
    nextAttemptAt: unixSeconds('next_attempt_at').notNull(),
    createdAt: unixSeconds('created_at').notNull(),
    finishedAt: unixSeconds('finished_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_endpoint_idx').on(t.eventId, t.endpointId),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
)

/** Every attempt, recorded when it starts and completed with its outcome. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    /** 1 for the first attempt. */
    attempt: integer('attempt').notNull(),
    /** The `webhook-timestamp` header of this attempt. */
    startedAt: unixSeconds('started_at').notNull(),
    /** sending (in flight, or its dispatcher died) → succeeded | failed */
    status: text('status').notNull(),
    responseStatus: integer('response_status'),
    /** The first bytes of the response body, for debugging a receiver. */
    responseExcerpt: text('response_excerpt'),
    /** Why it failed without a response: timeout, refused address, connection error. */
    error: text('error'),
    durationMs: integer('duration_ms'),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.attempt)],
)

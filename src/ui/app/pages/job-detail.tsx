// One job: live curves, ETA, controls the state machine allows, hyperparameters, checkpoints with
// their metrics, artifacts, and the event log.
import type { FineTuningJobCheckpoint } from 'openai/resources/fine-tuning/jobs/checkpoints'
import { Fragment } from 'preact'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { errorMessage } from '../api/client.ts'
import { EventsFeed, type JobEvent } from '../api/events-feed.ts'
import { Artifacts } from '../components/artifacts.tsx'
import { ErrorNote, Loading, PageHeader, Status, TableHead } from '../components/bits.tsx'
import { LossChart } from '../components/loss-chart.tsx'
import { Time } from '../components/time.tsx'
import { count, duration } from '../lib/format.ts'
import { allowedActions, USER_ACTIONS, type UserAction } from '../lib/job-actions.ts'
import { seriesFromEvents } from '../lib/metrics.ts'
import { href } from '../lib/route.ts'
import { usePoll } from '../lib/use-poll.ts'
import { jobDuration } from './jobs.tsx'
import type { SkilletJob } from './new-job.tsx'

const TERMINAL = ['succeeded', 'failed', 'cancelled']
const POLL_MS = 1000

function useEvents(session: Session, jobId: string, live: boolean): { events: JobEvent[]; error: string | null } {
  const feed = useRef<EventsFeed | null>(null)
  if (!feed.current) feed.current = new EventsFeed(session.client, jobId)
  const [events, setEvents] = useState<JobEvent[]>([])
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = async () => {
      try {
        if (await feed.current!.poll()) setEvents(feed.current!.events)
        setError(null)
      } catch (err) {
        setError(errorMessage(err))
      }
      if (!stopped && live) timer = setTimeout(run, POLL_MS)
    }
    void run()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [live])
  return { events, error }
}

export function JobDetailPage({ session, jobId }: { session: Session; jobId: string }) {
  const [live, setLive] = useState(true)
  const job = usePoll(async () => (await session.client.fineTuning.jobs.retrieve(jobId)) as SkilletJob, live ? POLL_MS : null, [jobId])
  const status = job.data?.status
  useEffect(() => {
    if (status && TERMINAL.includes(status)) setLive(false)
  }, [status])
  // One last read of events after the job ends, so the log is complete.
  const { events, error: eventsError } = useEvents(session, jobId, live)
  const series = useMemo(() => seriesFromEvents(events), [events])
  const checkpoints = usePoll(async () => (await session.client.fineTuning.jobs.checkpoints.list(jobId, { limit: 100 })).data, live ? 3000 : null, [jobId, live])
  const [actionError, setActionError] = useState<string | null>(null)
  const [acting, setActing] = useState<UserAction | null>(null)

  if (job.error && !job.data) return <ErrorNote message={job.error} />
  if (!job.data) return <Loading />
  const j = job.data
  const allowed = allowedActions(j.status)
  const act = async (action: UserAction) => {
    if (action === 'cancel' && !confirm(`Cancel ${jobId}? It stops without a fine-tuned model (checkpoints stay).`)) return
    setActing(action)
    setActionError(null)
    try {
      const c = session.client.fineTuning.jobs
      await (action === 'pause' ? c.pause(jobId) : action === 'resume' ? c.resume(jobId) : c.cancel(jobId))
      setLive(true)
      job.reload()
    } catch (err) {
      setActionError(errorMessage(err))
    } finally {
      setActing(null)
    }
  }
  const method = j.method?.type ?? 'supervised'
  const hyper = ((j.method as Record<string, { hyperparameters?: Record<string, unknown> }> | undefined)?.[method]?.hyperparameters ?? j.hyperparameters ?? {}) as Record<string, unknown>
  const totalSteps = (events.findLast((e) => e.type === 'metrics')?.data?.total_steps as number | undefined) ?? j.estimate?.total_steps
  return (
    <>
      <PageHeader title={j.id}>
        {USER_ACTIONS.map((a) => (
          <button key={a} type="button" class={a === 'cancel' ? 'danger' : ''} disabled={!allowed[a] || acting !== null} onClick={() => void act(a)}>
            {acting === a ? `${a[0].toUpperCase()}${a.slice(1)}…` : `${a[0].toUpperCase()}${a.slice(1)}`}
          </button>
        ))}
      </PageHeader>
      <ErrorNote message={actionError} />
      <ErrorNote message={j.error?.message ? `${j.error.code ? `${j.error.code}: ` : ''}${j.error.message}` : null} />
      <dl class="stats card">
        <div>
          <dt>Status</dt>
          <dd data-testid="job-status">
            <Status status={j.status} />
            {j.dry_run && <span class="tag">dry run</span>}
          </dd>
        </div>
        <div>
          <dt>Base model</dt>
          <dd class="mono small">{j.model}</dd>
        </div>
        <div>
          <dt>Fine-tuned model</dt>
          <dd class="mono small" data-testid="fine-tuned-model">
            {j.fine_tuned_model ?? '—'}
          </dd>
        </div>
        <div>
          <dt>Progress</dt>
          <dd>
            {series.step.length > 0 ? `step ${series.step[series.step.length - 1]}` : '—'}
            {totalSteps ? ` of ${count(totalSteps)}` : ''}
          </dd>
        </div>
        <div>
          <dt>{TERMINAL.includes(j.status) ? 'Finished' : 'ETA'}</dt>
          <dd>{TERMINAL.includes(j.status) ? <Time at={j.finished_at} /> : j.estimated_finish ? <Time at={j.estimated_finish} /> : '—'}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time at={j.created_at} />
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{duration(jobDuration(j))}</dd>
        </div>
        <div>
          <dt>Trained tokens</dt>
          <dd>{j.trained_tokens != null ? count(j.trained_tokens) : '—'}</dd>
        </div>
      </dl>

      <section class="card" aria-labelledby="curves-title">
        <h2 id="curves-title">Training curves</h2>
        <LossChart series={series} />
      </section>

      <div class="columns">
        <section class="card" aria-labelledby="hyper-title">
          <h2 id="hyper-title">Hyperparameters</h2>
          <dl class="kv">
            <dt>method</dt>
            <dd>{method}</dd>
            {Object.entries(hyper).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd>{String(v)}</dd>
              </Fragment>
            ))}
            <dt>seed</dt>
            <dd>{j.seed}</dd>
            <dt>training file</dt>
            <dd class="mono small">{j.training_file}</dd>
            {j.validation_file && (
              <>
                <dt>validation file</dt>
                <dd class="mono small">{j.validation_file}</dd>
              </>
            )}
          </dl>
        </section>
        <section class="card" aria-labelledby="ckpt-title">
          <h2 id="ckpt-title">Checkpoints</h2>
          <ErrorNote message={checkpoints.error} />
          <Checkpoints checkpoints={checkpoints.data ?? []} />
        </section>
      </div>

      {j.fine_tuned_model && j.status === 'succeeded' && (
        <section class="card" aria-labelledby="artifacts-title">
          <h2 id="artifacts-title">Artifacts</h2>
          <p class="muted small">
            Try it in the <a href={href('models')}>playground</a>.
          </p>
          <Artifacts session={session} model={j.fine_tuned_model} />
        </section>
      )}

      <section class="card" aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        <ErrorNote message={eventsError} />
        <ol class="events" aria-label="Event log" tabIndex={0}>
          {[...events].reverse().map((e) => (
            <li key={e.id} class={`event event-${e.level}`}>
              <Time at={e.created_at} /> <span>{e.message}</span>
            </li>
          ))}
        </ol>
      </section>
    </>
  )
}

function Checkpoints({ checkpoints }: { checkpoints: FineTuningJobCheckpoint[] }) {
  if (checkpoints.length === 0) return <p class="muted small">None yet: a checkpoint is written at the end of every epoch.</p>
  return (
    <table class="table" aria-label="Checkpoints">
      <TableHead columns={['Step', 'Train loss', 'Valid loss', 'Model']} />
      <tbody>
        {checkpoints.map((c) => {
          const m = c.metrics as Record<string, number | undefined>
          return (
            <tr key={c.id}>
              <td>{c.step_number}</td>
              <td>{m.train_loss?.toFixed(3) ?? '—'}</td>
              <td>{(m.valid_loss ?? m.full_valid_loss)?.toFixed(3) ?? '—'}</td>
              <td class="mono small">{c.fine_tuned_model_checkpoint}</td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

// Jobs: every fine-tuning job of the project, newest first, filterable by status.
import { useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { JOB_STATUSES } from '../../../jobs/state-machine.ts'
import { Empty, ErrorNote, Loading, PageHeader, Status, TableHead } from '../components/bits.tsx'
import { Time } from '../components/time.tsx'
import { duration } from '../lib/format.ts'
import { href } from '../lib/route.ts'
import { usePoll } from '../lib/use-poll.ts'
import type { SkilletJob } from './new-job.tsx'

export function jobDuration(job: SkilletJob, nowMs = Date.now()): number {
  return (job.finished_at ?? Math.floor(nowMs / 1000)) - job.created_at
}

export function JobsPage({ session }: { session: Session }) {
  const [status, setStatus] = useState('')
  const jobs = usePoll(async () => {
    const out: SkilletJob[] = []
    for await (const job of session.client.fineTuning.jobs.list({ limit: 100 })) {
      out.push(job as SkilletJob)
      if (out.length >= 500) break
    }
    return out
  }, 3000)
  const shown = jobs.data?.filter((j) => !status || j.status === status)
  return (
    <>
      <PageHeader title="Fine-tuning jobs">
        <label for="status-filter" class="inline-label">
          Status
        </label>
        <select id="status-filter" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">All</option>
          {JOB_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replaceAll('_', ' ')}
            </option>
          ))}
        </select>
        <a class="button primary" href={href('new-job')}>
          New job
        </a>
      </PageHeader>
      <ErrorNote message={jobs.error} />
      {!shown ? (
        <Loading />
      ) : shown.length === 0 ? (
        status ? (
          <Empty title={`No ${status.replaceAll('_', ' ')} jobs`}>Choose another status, or All.</Empty>
        ) : (
          <Empty title="No fine-tuning jobs yet">
            Upload a dataset on <a href={href('files')}>Datasets</a>, then create a job on <a href={href('new-job')}>New job</a> — a dry run first shows what it will cost.
          </Empty>
        )
      ) : (
        <table class="table" aria-label="Jobs">
          <TableHead columns={['Job', 'Status', 'Model', 'Created', 'Duration']} />
          <tbody>
            {shown.map((j) => (
              <tr key={j.id}>
                <td>
                  <a href={href('jobs', j.id)} class="mono">
                    {j.id}
                  </a>
                  {j.dry_run && <span class="tag">dry run</span>}
                </td>
                <td>
                  <Status status={j.status} />
                </td>
                <td>
                  <span class="mono small">{j.fine_tuned_model ?? j.model}</span>
                </td>
                <td>
                  <Time at={j.created_at} />
                </td>
                <td>{duration(jobDuration(j))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}

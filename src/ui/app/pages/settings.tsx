// Settings: projects and API keys (admin keys only: the routes answer 403 otherwise), and the
// project's webhook endpoints — create, send a test event, recent deliveries.
import OpenAI from 'openai'
import { useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { errorMessage } from '../api/client.ts'
import { Empty, ErrorNote, Loading, PageHeader, ShownOnce, Status, TableHead } from '../components/bits.tsx'
import { Time } from '../components/time.tsx'
import { usePoll } from '../lib/use-poll.ts'
import { useAction } from '../lib/use-action.ts'

interface Project { id: string; name: string; created_at: number }
interface ApiKey { id: string; name: string; redacted_value: string; is_admin: boolean; created_at: number; revoked_at: number | null; value?: string }
interface Delivery {
  id: string
  event_type: string
  status: string
  attempts: number
  created_at: number
  last_attempt: { response_status: number | null; error: string | null } | null
}
type List<T> = { data: T[] }

export function SettingsPage({ session }: { session: Session }) {
  return (
    <>
      <PageHeader title="Settings" />
      <ProjectsAndKeys session={session} />
      <Webhooks session={session} />
    </>
  )
}

function ProjectsAndKeys({ session }: { session: Session }) {
  const c = session.client
  const projects = usePoll(async () => {
    try {
      return { ok: true as const, list: (await c.get<List<Project>>('/organization/projects')).data }
    } catch (err) {
      if (err instanceof OpenAI.APIError && err.status === 403) return { ok: false as const, message: errorMessage(err) }
      throw err
    }
  }, null)
  const [selected, setSelected] = useState<string | null>(null)
  const [name, setName] = useState('')
  const action = useAction()
  if (projects.error) return <ErrorNote message={projects.error} />
  if (!projects.data) return <Loading />
  if (!projects.data.ok) {
    return (
      <section class="card" aria-labelledby="projects-title">
        <h2 id="projects-title">Projects and API keys</h2>
        <p class="muted">Only admin keys manage projects and keys. The server says: {projects.data.message}</p>
      </section>
    )
  }
  const create = (e: Event) => {
    e.preventDefault()
    void action.run(async () => {
      const p = await c.post<Project>('/organization/projects', { body: { name } })
      setName('')
      setSelected(p.id)
      projects.reload()
    })
  }
  const current = projects.data.list.find((p) => p.id === selected) ?? projects.data.list[0]
  return (
    <section class="card" aria-labelledby="projects-title">
      <h2 id="projects-title">Projects and API keys</h2>
      <div class="columns">
        <div>
          <ul class="plain" aria-label="Projects">
            {projects.data.list.map((p) => (
              <li key={p.id}>
                <button type="button" class="link-button" aria-pressed={current?.id === p.id} onClick={() => setSelected(p.id)}>
                  {p.name}
                </button>{' '}
                <span class="muted small mono">{p.id}</span>
              </li>
            ))}
          </ul>
          <form onSubmit={create} class="inline-form">
            <label for="project-name">New project</label>
            <input id="project-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="research" pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" required />
            <button type="submit">Create project</button>
          </form>
          <ErrorNote message={action.error} />
        </div>
        {current && <Keys key={current.id} session={session} project={current} />}
      </div>
    </section>
  )
}

function Keys({ session, project }: { session: Session; project: Project }) {
  const c = session.client
  const keys = usePoll(async () => (await c.get<List<ApiKey>>(`/organization/projects/${project.id}/api_keys`)).data, null, [project.id])
  const [name, setName] = useState('')
  const [admin, setAdmin] = useState(false)
  const [shown, setShown] = useState<ApiKey | null>(null)
  const action = useAction()
  const create = (e: Event) => {
    e.preventDefault()
    void action.run(async () => {
      setShown(await c.post<ApiKey>(`/organization/projects/${project.id}/api_keys`, { body: { name: name || undefined, is_admin: admin } }))
      setName('')
      keys.reload()
    })
  }
  const revoke = (k: ApiKey) =>
    confirm(`Revoke ${k.name} (${k.redacted_value})? Programs using it stop working within seconds.`) &&
    action.run(async () => {
      await c.delete(`/organization/projects/${project.id}/api_keys/${k.id}`)
      keys.reload()
    })
  return (
    <div>
      <h3>Keys of {project.name}</h3>
      {shown?.value && (
        <ShownOnce label="The new API key" value={shown.value} onDone={() => setShown(null)}>
          New key <strong>{shown.name}</strong>: copy it now, it is shown only this once.
        </ShownOnce>
      )}
      {!keys.data ? (
        <Loading />
      ) : keys.data.length === 0 ? (
        <Empty title="No keys in this project">Create one below.</Empty>
      ) : (
        <table class="table" aria-label={`API keys of ${project.name}`}>
          <TableHead columns={['Name', 'Key', 'Role', 'Created', '']} />
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td class="mono">{k.redacted_value}</td>
                <td>{k.is_admin ? 'admin' : 'member'}</td>
                <td>
                  <Time at={k.created_at} />
                </td>
                <td>
                  {k.revoked_at ? (
                    <span class="muted small">revoked</span>
                  ) : (
                    <button type="button" class="danger small-button" onClick={() => void revoke(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={create} class="inline-form">
        <label for="key-name">New key name</label>
        <input id="key-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="ci" />
        <label class="radio">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> admin
        </label>
        <button type="submit">Create key</button>
      </form>
      <ErrorNote message={action.error} />
    </div>
  )
}

function Webhooks({ session }: { session: Session }) {
  const c = session.client
  const endpoints = usePoll(async () => (await c.webhooks.list({ limit: 100 })).data, null)
  const types = usePoll(async () => (await c.get<List<string>>('/webhook_event_types')).data, null)
  const [form, setForm] = useState({ name: '', url: '' })
  const [chosen, setChosen] = useState<string[]>([])
  const [secret, setSecret] = useState<string | null>(null)
  const action = useAction()
  const create = (e: Event) => {
    e.preventDefault()
    void action.run(async () => {
      const created = await c.webhooks.create({ name: form.name, url: form.url, event_types: (chosen.length ? chosen : types.data ?? []) as never })
      setSecret(created.signing_secret)
      setForm({ name: '', url: '' })
      endpoints.reload()
    })
  }
  return (
    <section class="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p class="muted small">Skillet POSTs signed events (Standard Webhooks, as OpenAI signs them) when a job succeeds, fails or is cancelled.</p>
      {secret && (
        <ShownOnce label="Signing secret" value={secret} onDone={() => setSecret(null)}>
          Signing secret: copy it now, it is shown only this once.
        </ShownOnce>
      )}
      {!endpoints.data ? (
        <Loading />
      ) : endpoints.data.length === 0 ? (
        <Empty title="No webhook endpoints">Add one below to hear when jobs finish.</Empty>
      ) : (
        endpoints.data.map((ep) => <Endpoint key={ep.id} session={session} endpoint={ep as typeof ep & { status: string }} types={types.data ?? []} />)
      )}
      <h3>Add an endpoint</h3>
      <form onSubmit={create} class="form-grid">
        <div class="field">
          <label for="wh-name">Name</label>
          <input id="wh-name" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} required />
        </div>
        <div class="field">
          <label for="wh-url">URL</label>
          <input id="wh-url" type="url" value={form.url} placeholder="https://example.com/hooks" onInput={(e) => setForm({ ...form, url: e.currentTarget.value })} required />
        </div>
        <fieldset class="field">
          <legend>Events (none chosen: all)</legend>
          {(types.data ?? []).map((t) => (
            <label key={t} class="radio">
              <input type="checkbox" checked={chosen.includes(t)} onChange={(e) => setChosen(e.currentTarget.checked ? [...chosen, t] : chosen.filter((x) => x !== t))} /> {t}
            </label>
          ))}
        </fieldset>
        <div class="form-actions">
          <button type="submit">Add endpoint</button>
        </div>
      </form>
      <ErrorNote message={action.error} />
    </section>
  )
}

function Endpoint({ session, endpoint, types }: { session: Session; endpoint: { id: string; name: string; url: string; status: string }; types: string[] }) {
  const c = session.client
  const deliveries = usePoll(async () => (await c.get<List<Delivery>>(`/webhook_endpoints/${endpoint.id}/deliveries`, { query: { limit: 10 } })).data, 5000, [endpoint.id])
  const [result, setResult] = useState<string | null>(null)
  const [eventType, setEventType] = useState(types[0] ?? 'fine_tuning.job.succeeded')
  const test = async () => {
    setResult(null)
    try {
      const r = await c.post<{ status_code: number }>(`/webhook_endpoints/${endpoint.id}/test`, { body: { event_type: eventType } })
      setResult(`The receiver answered ${r.status_code}.`)
    } catch (err) {
      setResult(errorMessage(err))
    }
    deliveries.reload()
  }
  return (
    <div class="endpoint">
      <h3>
        {endpoint.name} <Status status={endpoint.status} />
      </h3>
      <p class="mono small">{endpoint.url}</p>
      <div class="inline-form">
        <label for={`test-${endpoint.id}`} class="visually-hidden">
          Test event type
        </label>
        <select id={`test-${endpoint.id}`} value={eventType} onChange={(e) => setEventType(e.currentTarget.value)}>
          {types.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <button type="button" onClick={() => void test()}>
          Send test event
        </button>
        {result && (
          <span role="status" class="small">
            {result}
          </span>
        )}
      </div>
      {deliveries.data && deliveries.data.length > 0 && (
        <table class="table" aria-label={`Recent deliveries to ${endpoint.name}`}>
          <TableHead columns={['Event', 'Status', 'Attempts', 'Last answer', 'When']} />
          <tbody>
            {deliveries.data.map((d) => (
              <tr key={d.id}>
                <td class="mono small">{d.event_type}</td>
                <td>
                  <Status status={d.status} />
                </td>
                <td>{d.attempts}</td>
                <td>{d.last_attempt ? (d.last_attempt.response_status ?? d.last_attempt.error ?? '—') : '—'}</td>
                <td>
                  <Time at={d.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

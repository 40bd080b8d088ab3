// Datasets: drag-and-drop upload with progress (resumable in parts), validation status with the
// line-numbered errors, a preview of the first examples as chat turns, counts, delete.
import type { FileObject } from 'openai/resources/files'
import { useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { authedFetch, errorMessage } from '../api/client.ts'
import { DatasetUpload, type Progress } from '../api/upload.ts'
import { Empty, ErrorNote, Loading, PageHeader, Status, TableHead } from '../components/bits.tsx'
import { Time } from '../components/time.tsx'
import { bytes, count } from '../lib/format.ts'
import { firstLines, previewExample, type PreviewExample } from '../lib/preview.ts'
import { parseStatusDetails } from '../lib/status-details.ts'
import { usePoll } from '../lib/use-poll.ts'
import { useAction } from '../lib/use-action.ts'

/** The file object with Skillet's `dataset` extension. */
export type DatasetFile = FileObject & { dataset?: { format: string | null; examples: number; estimated_tokens: number } }

interface UploadRow {
  id: number
  upload: DatasetUpload
  progress: Progress
  state: 'uploading' | 'failed' | 'done'
  error: string | null
}

let nextUploadId = 1

export function FilesPage({ session }: { session: Session }) {
  const [uploads, setUploads] = useState<UploadRow[]>([])
  const [selected, setSelected] = useState<string | null>(null)
  const [dragging, setDragging] = useState(false)
  const list = usePoll(async () => (await session.client.files.list({ purpose: 'fine-tune' })).data as DatasetFile[], 2000)

  const update = (id: number, patch: Partial<UploadRow>) => setUploads((rows) => rows.map((r) => (r.id === id ? { ...r, ...patch } : r)))
  const run = async (row: UploadRow) => {
    update(row.id, { state: 'uploading', error: null })
    try {
      const file = await row.upload.run()
      update(row.id, { state: 'done' })
      setSelected(file.id)
      list.reload()
    } catch (err) {
      update(row.id, { state: 'failed', error: errorMessage(err) })
    }
  }
  const start = (files: FileList | null) => {
    for (const f of Array.from(files ?? [])) {
      const id = nextUploadId++
      const upload = new DatasetUpload(session.apiKey, f, (progress) => update(id, { progress }))
      const row: UploadRow = { id, upload, progress: { loaded: 0, total: f.size }, state: 'uploading', error: null }
      setUploads((rows) => [row, ...rows])
      void run(row)
    }
  }

  const files = list.data
  const current = files?.find((f) => f.id === selected) ?? null
  return (
    <>
      <PageHeader title="Datasets" />
      <label
        class={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => (e.preventDefault(), setDragging(true))}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault()
          setDragging(false)
          start(e.dataTransfer?.files ?? null)
        }}
      >
        <input type="file" accept=".jsonl,application/jsonl,text/jsonl" class="visually-hidden" data-testid="file-input" onChange={(e) => start(e.currentTarget.files)} />
        <strong>Drop a JSONL dataset here</strong> or <span class="link-like">choose a file</span>
        <span class="muted small">Chat, prompt/completion or preference (DPO) examples, one per line. Large files upload in resumable parts.</span>
      </label>

      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.id} class="upload-row" data-state={u.state}>
              <span class="upload-name">{u.upload.file.name}</span>
              <progress max={u.progress.total || 1} value={u.progress.loaded} aria-label={`Upload of ${u.upload.file.name}`} />
              <span class="small">
                {u.state === 'done' ? 'Uploaded' : `${Math.floor((100 * u.progress.loaded) / (u.progress.total || 1))} %`}
                {u.upload.parted && ` · part ${Math.min(u.upload.partsDone + (u.state === 'done' ? 0 : 1), u.upload.partCount)} of ${u.upload.partCount}`}
              </span>
              {u.state === 'failed' && (
                <>
                  <ErrorNote message={u.error} />
                  <button type="button" onClick={() => void run(u)}>
                    {u.upload.parted ? `Resume (${u.upload.partsDone} of ${u.upload.partCount} parts kept)` : 'Retry'}
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}

      <ErrorNote message={list.error} />
      {!files ? (
        <Loading />
      ) : files.length === 0 ? (
        <Empty title="No datasets yet">Drop a JSONL file above: it is validated line by line, and the errors name their line.</Empty>
      ) : (
        <div class="split">
          <table class="table" aria-label="Datasets">
            <TableHead columns={['File', 'Status', 'Examples', 'Tokens (est.)', 'Size', 'Uploaded']} />
            <tbody>
              {files.map((f) => (
                <tr key={f.id} class={f.id === selected ? 'selected' : ''}>
                  <td>
                    <button type="button" class="link-button" onClick={() => setSelected(f.id)} aria-pressed={f.id === selected}>
                      {f.filename}
                    </button>
                    <div class="muted small mono">{f.id}</div>
                  </td>
                  <td>
                    <Status status={f.status} />
                  </td>
                  <td>{f.dataset ? count(f.dataset.examples) : '—'}</td>
                  <td>{f.dataset ? count(f.dataset.estimated_tokens) : '—'}</td>
                  <td>{bytes(f.bytes)}</td>
                  <td>
                    <Time at={f.created_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {current && <FileDetail key={current.id} session={session} file={current} onDeleted={() => (setSelected(null), list.reload())} />}
        </div>
      )}
    </>
  )
}

function FileDetail({ session, file, onDeleted }: { session: Session; file: DatasetFile; onDeleted: () => void }) {
  const action = useAction()
  const preview = usePoll(async () => {
    const res = await authedFetch(session.apiKey, `/files/${encodeURIComponent(file.id)}/content`)
    return (await firstLines(res, 3)).map(previewExample)
  }, null, [file.id])
  const remove = () =>
    confirm(`Delete ${file.filename}? Jobs that used it keep their results.`) &&
    action.run(async () => {
      await session.client.files.delete(file.id)
      onDeleted()
    })
  const details = file.status === 'error' && file.status_details ? parseStatusDetails(file.status_details) : null
  return (
    <section class="card detail" aria-label={`Dataset ${file.filename}`}>
      <header class="detail-header">
        <h2>{file.filename}</h2>
        <button type="button" class="danger" onClick={remove}>
          Delete
        </button>
      </header>
      <p>
        <Status status={file.status} />{' '}
        {file.status === 'uploaded' && <span class="muted">Validating…</span>}
        {file.dataset && (
          <span class="muted">
            {count(file.dataset.examples)} examples · about {count(file.dataset.estimated_tokens)} tokens · {file.dataset.format?.replaceAll('_', '/') ?? 'no valid example'}
          </span>
        )}
      </p>
      <ErrorNote message={action.error} />
      {details && (
        <>
          <h3>Problems found</h3>
          <table class="table line-errors" aria-label="Validation errors">
            <TableHead columns={['Line', 'Problem']} />
            <tbody>
              {details.errors.map((e, i) => (
                <tr key={i}>
                  <td class="mono">{e.line ?? '—'}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {details.more && <p class="muted small">…{details.more}.</p>}
        </>
      )}
      <h3>First examples</h3>
      <ErrorNote message={preview.error} />
      {preview.data?.map((ex, i) => <Example key={i} index={i + 1} example={ex} />)}
    </section>
  )
}

function Example({ index, example }: { index: number; example: PreviewExample | null }) {
  if (!example) return <p class="muted small">Line {index} is not a JSON example.</p>
  return (
    <figure class="example" aria-label={`Example ${index}`}>
      {example.turns.map((t, i) => (
        <div key={i} class={`turn turn-${t.role}`}>
          <span class="role">{t.role}</span>
          <p>{t.text}</p>
        </div>
      ))}
      {example.preferred !== undefined && (
        <div class="turn turn-assistant">
          <span class="role">preferred</span>
          <p>{example.preferred}</p>
        </div>
      )}
      {example.nonPreferred !== undefined && (
        <div class="turn turn-rejected">
          <span class="role">not preferred</span>
          <p>{example.nonPreferred}</p>
        </div>
      )}
    </figure>
  )
}

// Small shared pieces: empty states, error notes, status badges, page headers.
import type { ComponentChildren } from 'preact'

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <p class="muted">{children}</p>}
    </div>
  )
}

export function ErrorNote({ message }: { message: string | null | undefined }) {
  if (!message) return null
  return (
    <p class="error-note" role="alert">
      {message}
    </p>
  )
}

export function Status({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status.replaceAll('_', ' ')}</span>
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      <div class="page-actions">{children}</div>
    </header>
  )
}

export function Loading() {
  return <p class="muted" aria-live="polite">Loading…</p>
}

/** A table's header row; an empty name is a column of buttons, named for screen readers only. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) => (
          <th key={i} scope="col">
            {c || <span class="visually-hidden">Actions</span>}
          </th>
        ))}
      </tr>
    </thead>
  )
}

/** A secret the server returns only once (a new API key, a signing secret): shown until dismissed. */
export function ShownOnce({ label, value, children, onDone }: { label: string; value: string; children: ComponentChildren; onDone: () => void }) {
  return (
    <div class="notice" role="status">
      <p>{children}</p>
      <input class="mono" readOnly value={value} aria-label={label} onFocus={(e) => e.currentTarget.select()} />
      <button type="button" class="small-button" onClick={onDone}>
        Done
      </button>
    </div>
  )
}

// A model's artifacts (PEFT adapter, merged weights, GGUF, …) with download buttons.
import { useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { authedFetch, errorMessage } from '../api/client.ts'
import { downloadWithKey } from '../api/download.ts'
import { bytes } from '../lib/format.ts'
import { usePoll } from '../lib/use-poll.ts'
import { ErrorNote } from './bits.tsx'

interface Artifact {
  name: string
  bytes: number
}

export const modelPath = (id: string) => `/models/${encodeURI(id)}`

export function Artifacts({ session, model }: { session: Session; model: string }) {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState<string | null>(null)
  const list = usePoll(async () => ((await (await authedFetch(session.apiKey, `${modelPath(model)}/artifacts`)).json()) as { data: Artifact[] }).data, null, [model])
  const download = async (name: string) => {
    setBusy(name)
    setError(null)
    try {
      await downloadWithKey(session.apiKey, `${modelPath(model)}/artifacts/${encodeURIComponent(name)}`, `${model.replaceAll(/[:/]/g, '_')}-${name}`)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(null)
    }
  }
  if (list.error) return <ErrorNote message={list.error} />
  if (!list.data) return null
  if (list.data.length === 0) return <p class="muted small">No artifacts.</p>
  return (
    <>
      <ul class="artifacts" aria-label={`Artifacts of ${model}`}>
        {list.data.map((a) => (
          <li key={a.name}>
            <span class="mono">{a.name}</span> <span class="muted small">{bytes(a.bytes)}</span>
            <button type="button" class="small-button" disabled={busy !== null} onClick={() => void download(a.name)} aria-label={`Download ${a.name}`}>
              {busy === a.name ? 'Downloading…' : 'Download'}
            </button>
          </li>
        ))}
      </ul>
      <ErrorNote message={error} />
    </>
  )
}

// Sign in with an API key: checked against the API itself, whose message is shown when it refuses.
import { useState } from 'preact/hooks'
import { errorMessage, makeClient } from '../api/client.ts'
import { saveKey } from '../api/session.ts'
import { ErrorNote } from '../components/bits.tsx'

export function SignIn({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await makeClient(key.trim()).models.list()
      saveKey(key.trim())
      onSignedIn(key.trim())
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <main class="sign-in" id="main">
      <form onSubmit={submit} class="card">
        <h1>Skillet</h1>
        <p class="muted">Self-hosted fine-tuning. Sign in with an API key (the admin key is printed at the server's first start).</p>
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" spellcheck={false} placeholder="sk-…" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        <ErrorNote message={error} />
        <button type="submit" class="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="muted small">The key stays in this tab's session storage and is sent only as a Bearer token to this server.</p>
      </form>
    </main>
  )
}

// A user action that calls the API: remembers the API's message when it fails, and whether it runs.
import { useState } from 'preact/hooks'
import { errorMessage } from '../api/client.ts'

export function useAction(): { error: string | null; busy: boolean; run: (action: () => Promise<unknown>) => Promise<void> } {
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true)
    setError(null)
    try {
      await action()
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }
  return { error, busy, run }
}

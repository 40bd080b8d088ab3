// Loads data and reloads it every `intervalMs` while the page shows it (and at once on `reload()`).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { errorMessage } from '../api/client.ts'

export interface Polled<T> {
  data: T | null
  error: string | null
  reload: () => void
}

export function usePoll<T>(load: () => Promise<T>, intervalMs: number | null, deps: unknown[] = []): Polled<T> {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const run = async () => {
      try {
        const value = await loadRef.current()
        if (stopped) return
        setData(value)
        setError(null)
      } catch (err) {
        if (!stopped) setError(errorMessage(err))
      }
      if (!stopped && intervalMs !== null) timer = setTimeout(run, intervalMs)
    }
    void run()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [intervalMs, tick, ...deps])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { data, error, reload }
}

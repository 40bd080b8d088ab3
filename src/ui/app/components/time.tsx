import { absoluteTime, relativeTime } from '../lib/format.ts'

/** "3 minutes ago", with the exact time beside it for screen readers and on hover. */
export function Time({ at }: { at: number | null | undefined }) {
  if (!at) return <span class="muted">—</span>
  const abs = absoluteTime(at)
  return (
    <time dateTime={new Date(at * 1000).toISOString()} title={abs}>
      {relativeTime(at)} <span class="muted small">({abs})</span>
    </time>
  )
}

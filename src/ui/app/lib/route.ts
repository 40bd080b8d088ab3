// Hash routes ("#/jobs/ftjob-…"): the server serves one page at `/`, and no path ever carries the key.
import { useEffect, useState } from 'preact/hooks'

export interface Route {
  page: string
  id: string | null
}

export function parseRoute(hash: string): Route {
  const [page = 'jobs', ...rest] = hash.replace(/^#\/?/, '').split('/')
  return { page: page || 'jobs', id: rest.length > 0 ? decodeURIComponent(rest.join('/')) : null }
}

export function href(page: string, id?: string): string {
  return id ? `#/${page}/${encodeURIComponent(id)}` : `#/${page}`
}

export function navigate(page: string, id?: string): void {
  location.hash = href(page, id)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

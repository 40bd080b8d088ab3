// The dashboard shell: sign-in gate, navigation, and the page for the current hash route.
import { useState } from 'preact/hooks'
import { makeClient, type Client } from './api/client.ts'
import { forgetKey, loadKey } from './api/session.ts'
import { href, useRoute } from './lib/route.ts'
import { SignIn } from './pages/sign-in.tsx'
import { FilesPage } from './pages/files.tsx'
import { NewJobPage } from './pages/new-job.tsx'
import { JobsPage } from './pages/jobs.tsx'
import { JobDetailPage } from './pages/job-detail.tsx'
import { ModelsPage } from './pages/models.tsx'
import { SettingsPage } from './pages/settings.tsx'

export interface Session {
  apiKey: string
  client: Client
}

const NAV = [
  ['jobs', 'Jobs'],
  ['new-job', 'New job'],
  ['files', 'Datasets'],
  ['models', 'Models'],
  ['settings', 'Settings'],
] as const

function Page({ session }: { session: Session }) {
  const route = useRoute()
  switch (route.page) {
    case 'files':
      return <FilesPage session={session} />
    case 'new-job':
      return <NewJobPage session={session} />
    case 'jobs':
      return route.id ? <JobDetailPage session={session} jobId={route.id} /> : <JobsPage session={session} />
    case 'models':
      return <ModelsPage session={session} />
    case 'settings':
      return <SettingsPage session={session} />
    default:
      return <JobsPage session={session} />
  }
}

export function App() {
  const [apiKey, setApiKey] = useState<string | null>(() => loadKey())
  const route = useRoute()
  if (!apiKey) return <SignIn onSignedIn={setApiKey} />
  const session: Session = { apiKey, client: makeClient(apiKey) }
  const signOut = () => {
    forgetKey()
    setApiKey(null)
  }
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <nav class="sidebar" aria-label="Main">
        <p class="brand">Skillet</p>
        <ul>
          {NAV.map(([page, label]) => (
            <li key={page}>
              <a href={href(page)} aria-current={route.page === page ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
        <button type="button" class="link-button" onClick={signOut}>
          Sign out
        </button>
      </nav>
      <main id="main" tabIndex={-1}>
        <Page session={session} />
      </main>
    </div>
  )
}

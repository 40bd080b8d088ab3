// The dashboard's bundle: built by Vite from src/ui/app into dist/ui/<hash of the sources>/, so a
// bundle is never stale and two processes building at once cannot clash (each builds into its own
// temporary folder, then renames it into place; the loser discards its copy). `npm ci` builds it
// (the `prepare` script); a server that finds it missing or stale builds it in the background and
// answers 503 at `/` until it is there.
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
export const UI_SOURCE_DIR = path.join(ROOT, 'src/ui/app')
export const UI_DIST_DIR = path.join(ROOT, 'dist/ui')
/** Sources the UI imports from outside its folder: they are part of its hash. */
const SHARED_SOURCES = [path.join(ROOT, 'src/jobs/state-machine.ts'), path.join(ROOT, 'src/protocol/auto-hyperparameters.ts'), path.join(ROOT, 'src/ui/build/vite-config.ts'), path.join(ROOT, 'package-lock.json')]

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort()
}

/** A hash of every file the bundle is built from. */
export async function uiSourceHash(): Promise<string> {
  const hash = createHash('sha256')
  for (const file of [...(await listFiles(UI_SOURCE_DIR)), ...SHARED_SOURCES]) {
    hash.update(path.relative(ROOT, file)).update('\0')
    hash.update(await fs.readFile(file).catch(() => Buffer.alloc(0))).update('\0')
  }
  return hash.digest('hex').slice(0, 16)
}

export interface UiBundle {
  /** Folder holding index.html and assets/ once built. */
  dir: string
  /** Settles when the bundle is there (rejects when the build failed). */
  ready: Promise<void>
  /** Whether index.html can be served now. */
  isReady(): boolean
  /** Why the build failed, once it has. */
  error(): Error | null
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false)
}

/** Builds into `dir` (via a temporary sibling folder renamed into place). */
async function buildInto(dir: string): Promise<void> {
  const { build } = await import('vite')
  const { viteConfig } = await import('./vite-config.ts')
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  try {
    await build(viteConfig(UI_SOURCE_DIR, tmp))
    await fs.rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (!(await exists(path.join(dir, 'index.html')))) throw err // someone else won the race otherwise
    })
  } finally {
    await fs.rm(tmp, { recursive: true, force: true })
  }
  // Older bundles are no longer served by anything started from these sources.
  for (const old of await fs.readdir(UI_DIST_DIR).catch(() => [] as string[])) {
    if (path.join(UI_DIST_DIR, old) !== dir && !old.includes('.tmp-')) await fs.rm(path.join(UI_DIST_DIR, old), { recursive: true, force: true }).catch(() => {})
  }
}

/** The bundle for the current sources: ready at once when already built, else built now (in the background). */
export async function ensureUiBundle(): Promise<UiBundle> {
  const dir = path.join(UI_DIST_DIR, await uiSourceHash())
  let ready = await exists(path.join(dir, 'index.html'))
  let failure: Error | null = null
  const promise = ready
    ? Promise.resolve()
    : buildInto(dir).then(
        () => {
          ready = true
        },
        (err: Error) => {
          failure = err
          throw err
        },
      )
  promise.catch(() => {}) // the caller decides whether to wait; an unobserved failure must not crash
  return { dir, ready: promise, isReady: () => ready, error: () => failure }
}

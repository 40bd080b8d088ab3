// The import rules of src/ (docs/architecture.md), checked on the source itself: folders form layers
// and every import points to a lower layer (or stays inside its folder); no folder, at any depth,
// takes part in an import cycle. A folder not listed in LAYERS (a new one) is held to the cycle rule
// only — add it to LAYERS where it belongs.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'

const SRC = path.resolve(import.meta.dirname, '../../src')

/**
 * Top to bottom. A folder may import from folders of later entries only; folders in one entry are
 * independent of each other. '.' is the files directly in src/ (the entry points and their wiring).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['.'],
  ['routes', 'plugins'],
  ['services', 'ui'],
  ['reports', 'metrics'],
  ['running'],
  ['running/kubernetes'],
  ['running/scheduler', 'running/local'],
  ['running/executor'],
  ['models'],
  ['jobs'],
  ['files', 'webhooks'],
  ['trainer'],
  ['graders'],
  ['storage', 'db', 'config', 'schemas', 'auth'],
  ['protocol', 'lib'],
]

export interface Import {
  from: string // file, relative to src/
  to: string // file, relative to src/
}

/** Every relative import (static, dynamic, re-export) between files of src/. */
export function importsOf(root: string): Import[] {
  const out: Import[] = []
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (p.endsWith('.ts')) {
        const text = fs.readFileSync(p, 'utf8')
        for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)(['"])(\.\.?\/[^'"]+)\1/gm)) {
          const target = path.resolve(path.dirname(p), m[2])
          if (!target.startsWith(root + path.sep)) continue
          out.push({ from: path.relative(root, p), to: path.relative(root, target) })
        }
      }
    }
  }
  walk(root)
  return out
}

/** The LAYERS entry a file belongs to: the longest listed folder containing it. */
export function layerOf(file: string, layers: readonly (readonly string[])[] = LAYERS): { folder: string; rank: number } | null {
  const dir = path.dirname(file)
  let best: { folder: string; rank: number } | null = null
  layers.forEach((folders, rank) => {
    for (const folder of folders) {
      const inside = folder === '.' ? dir === '.' : dir === folder || dir.startsWith(`${folder}/`)
      if (inside && (!best || folder.length > best.folder.length)) best = { folder, rank }
    }
  })
  return best
}

/** Imports that go up or sideways between listed folders. */
export function layerViolations(imports: readonly Import[], layers: readonly (readonly string[])[] = LAYERS): string[] {
  const bad: string[] = []
  for (const i of imports) {
    const a = layerOf(i.from, layers)
    const b = layerOf(i.to, layers)
    if (!a || !b || a.folder === b.folder) continue
    if (b.rank <= a.rank) bad.push(`${i.from} imports ${i.to} (${a.folder} may not depend on ${b.folder})`)
  }
  return bad
}

/** Folder cycles: each strongly connected set of two or more folders (any depth) in the import graph. */
export function folderCycles(imports: readonly Import[]): string[][] {
  const edges = new Map<string, Set<string>>()
  for (const i of imports) {
    const a = path.dirname(i.from)
    const b = path.dirname(i.to)
    if (a === b) continue
    if (!edges.has(a)) edges.set(a, new Set())
    edges.get(a)!.add(b)
  }
  // Tarjan's strongly connected components.
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string) => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) cycles.push(scc.sort())
    }
  }
  for (const v of edges.keys()) if (!idx.has(v)) visit(v)
  return cycles
}

t.test('the checks catch what they are for', async (t) => {
  const imports: Import[] = [
    { from: 'jobs/a.ts', to: 'services/b.ts' }, // upward
    { from: 'running/scheduler/c.ts', to: 'running/local/d.ts' }, // sideways
    { from: 'services/b.ts', to: 'jobs/a.ts' }, // downward: fine
    { from: 'x/e.ts', to: 'y/f.ts' },
    { from: 'y/f.ts', to: 'x/deep/g.ts' },
    { from: 'x/deep/g.ts', to: 'x/e.ts' },
  ]
  t.same(layerViolations(imports), [
    'jobs/a.ts imports services/b.ts (jobs may not depend on services)',
    'running/scheduler/c.ts imports running/local/d.ts (running/scheduler may not depend on running/local)',
  ])
  t.same(folderCycles(imports), [['jobs', 'services'], ['x', 'x/deep', 'y']])
  t.equal(layerOf('running/kubernetes/reconciler.ts')?.folder, 'running/kubernetes')
  t.equal(layerOf('server.ts')?.folder, '.')
  t.equal(layerOf('newfolder/x.ts'), null)
})

t.test('src/ imports only downward, with no folder cycles', async (t) => {
  const imports = importsOf(SRC)
  t.ok(imports.length > 100, 'the imports were found')
  t.same(layerViolations(imports), [], 'no import goes up or sideways (docs/architecture.md)')
  t.same(folderCycles(imports), [], 'no folder is part of an import cycle')
})

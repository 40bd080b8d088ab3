// A module resolution hook that remembers each package's "type" instead of asking Node for it per
// module. Node 24 answers "is this .js file ESM?" by handing JavaScript the nearest package.json's
// `exports` map as a fresh string for every module it loads; drizzle-orm's package.json is 179 KB,
// so its ~110 modules made about 90 MB of garbage at import, which the young generation kept as
// resident memory (measured: importing drizzle-orm/pglite took 177 MB RSS and 0.64 s; with this hook
// 18 MB and 0.07 s). The hook answers only relative `import`s of `.js` files inside node_modules
// whose package is "type": "module" — the format Node would find — and leaves everything else
// (bare specifiers, require, other extensions, CommonJS packages) to Node's own resolution.
import fs from 'node:fs'
import * as nodeModule from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The "type" of the package scope a directory is in (its nearest package.json), as Node reads it. */
export function packageTypeCache(readPackageJson: (file: string) => string | null): (dir: string) => string {
  const byDir = new Map<string, string>()
  const typeOf = (dir: string): string => {
    const known = byDir.get(dir)
    if (known !== undefined) return known
    const text = readPackageJson(path.join(dir, 'package.json'))
    let type: string
    if (text !== null) {
      const parsed = JSON.parse(text) as { type?: unknown }
      type = parsed.type === 'module' ? 'module' : 'commonjs'
    } else {
      const up = path.dirname(dir)
      type = up === dir ? 'commonjs' : typeOf(up)
    }
    byDir.set(dir, type)
    return type
  }
  return typeOf
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

let registered = false

/** Registers the hook for this process (once); call before importing the module graph it should serve. */
export function registerPackageTypeCache(): void {
  // registerHooks is Node >= 22.15 / 23.5; without it Node's own resolution does the work (only slower).
  if (registered || typeof nodeModule.registerHooks !== 'function') return
  registered = true
  const typeOf = packageTypeCache(readIfExists)
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL
      if (
        parent?.startsWith('file:') &&
        parent.includes('/node_modules/') &&
        (specifier.startsWith('./') || specifier.startsWith('../')) &&
        specifier.endsWith('.js') &&
        context.conditions.includes('import')
      ) {
        const url = new URL(specifier, parent)
        if (typeOf(path.dirname(fileURLToPath(url))) === 'module') return { url: url.href, format: 'module', shortCircuit: true }
      }
      return nextResolve(specifier, context)
    },
  })
}

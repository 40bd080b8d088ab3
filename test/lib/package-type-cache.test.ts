// The package-type cache finds the "type" Node would: the nearest package.json up the directory
// tree decides, a package.json without "type" (or with another value) is CommonJS, no package.json
// at all is CommonJS, and each package.json is read once however many modules sit below it.
import path from 'node:path'
import t from 'tap'
import { packageTypeCache } from '../../src/lib/package-type-cache.ts'

t.test('the nearest package.json decides, each read once', async (t) => {
  const files: Record<string, string> = {
    '/app/node_modules/esm-pkg/package.json': JSON.stringify({ name: 'esm-pkg', type: 'module', exports: { '.': './index.js' } }),
    '/app/node_modules/esm-pkg/cjs/package.json': JSON.stringify({ type: 'commonjs' }),
    '/app/node_modules/plain/package.json': JSON.stringify({ name: 'plain' }),
  }
  const reads: string[] = []
  const typeOf = packageTypeCache((file) => {
    reads.push(file)
    return files[file] ?? null
  })
  t.equal(typeOf('/app/node_modules/esm-pkg/pg-core/columns'), 'module', 'a deep folder of a "type": "module" package')
  t.equal(typeOf('/app/node_modules/esm-pkg/pg-core'), 'module')
  t.equal(typeOf('/app/node_modules/esm-pkg/cjs/lib'), 'commonjs', 'a nested package.json starts its own scope')
  t.equal(typeOf('/app/node_modules/plain/lib'), 'commonjs', 'no "type": CommonJS')
  t.equal(typeOf('/elsewhere/x'), 'commonjs', 'no package.json up to the root: CommonJS')
  t.equal(typeOf('/app/node_modules/esm-pkg/pg-core/columns'), 'module', 'asked again')
  const esmReads = reads.filter((f) => f === path.join('/app/node_modules/esm-pkg/package.json'))
  t.equal(esmReads.length, 1, "the package's package.json was read once")
  t.equal(new Set(reads).size, reads.length, 'no file was read twice')
})

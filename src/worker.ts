// Entry point of the worker (`node src/worker.ts`). The package-type cache must be registered
// before the worker's modules are resolved, so the worker itself (src/start-worker.ts) is imported after it.
import { enableCompileCache } from 'node:module'
import { registerPackageTypeCache } from './lib/package-type-cache.ts'

// Node's compile cache (os.tmpdir()/node-compile-cache): later starts compile the modules from cached code.
enableCompileCache()
registerPackageTypeCache()
await import('./start-worker.ts')

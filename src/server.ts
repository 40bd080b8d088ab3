// Entry point of the API (`node src/server.ts`). The package-type cache must be registered before
// the service's modules are resolved, so the service itself (src/start-api.ts) is imported after it.
import { enableCompileCache } from 'node:module'
import { registerPackageTypeCache } from './lib/package-type-cache.ts'

// Node's compile cache (os.tmpdir()/node-compile-cache): later starts compile the modules from cached code.
enableCompileCache()
registerPackageTypeCache()
await import('./start-api.ts')

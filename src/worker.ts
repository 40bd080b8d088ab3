// Entry point of the worker (`node src/worker.ts`). The package-type cache must be registered
// before the worker's modules are resolved, so the worker itself (src/start-worker.ts) is imported after it.
import { registerPackageTypeCache } from './lib/package-type-cache.ts'

registerPackageTypeCache()
await import('./start-worker.ts')

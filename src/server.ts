// Entry point of the API (`node src/server.ts`). The package-type cache must be registered before
// the service's modules are resolved, so the service itself (src/start-api.ts) is imported after it.
// Unlike the worker and the trainer, the API does not enable Node's compile cache: Node keeps every
// loaded module's cache entry in memory for the life of the process (~7 MB of idle RSS here,
// `npm run bench:rss`), for ~0.4 s of CPU saved per start; in a container /tmp is fresh anyway.
import { registerPackageTypeCache } from './lib/package-type-cache.ts'

registerPackageTypeCache()
await import('./start-api.ts')

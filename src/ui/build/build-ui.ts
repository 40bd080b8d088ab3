// `npm run build:ui` (and `prepare`, run by `npm ci`): builds the dashboard bundle if it is missing
// or stale, and says where it is.
import { ensureUiBundle } from './ui-bundle.ts'

const started = Date.now()
const bundle = await ensureUiBundle()
await bundle.ready
process.stdout.write(`dashboard bundle ready in ${bundle.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)

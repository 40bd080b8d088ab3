// Entry point of the trainer (`node src/cli/trainer.ts`; what it does, its settings and exit codes:
// src/cli/trainer-process.ts). Node's compile cache (os.tmpdir()/node-compile-cache; nothing happens
// where it cannot be written) is enabled before the trainer's ~770 modules are loaded, so every
// start after the first compiles them from cached code: measured 0.75 → 0.45 s of CPU.
import { enableCompileCache } from 'node:module'

enableCompileCache()
await import('./trainer-process.ts')

// Loaded with `node --import` (through NODE_OPTIONS) into a process under test: records the URL of
// every module the process loads (a load hook: it sees the modules whose resolution a later hook,
// src/lib/package-type-cache.ts, answers itself) and writes them, one per line, to $SKILLET_TEST_IMPORTS_FILE
// when it exits — to check which libraries a process loads.
import fs from 'node:fs'
import { registerHooks } from 'node:module'

const urls = new Set<string>()
registerHooks({
  load(url, context, nextLoad) {
    urls.add(url)
    return nextLoad(url, context)
  },
})
process.on('exit', () => fs.writeFileSync(process.env.SKILLET_TEST_IMPORTS_FILE!, [...urls].join('\n') + '\n'))

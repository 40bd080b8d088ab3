// Loaded with `node --import` (through NODE_OPTIONS) into a process under test: records the URL of
// every module the process resolves and writes them, one per line, to $SKILLET_TEST_IMPORTS_FILE
// when it exits — to check which libraries a process loads.
import fs from 'node:fs'
import { registerHooks } from 'node:module'

const urls = new Set<string>()
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context)
    urls.add(result.url)
    return result
  },
})
process.on('exit', () => fs.writeFileSync(process.env.SKILLET_TEST_IMPORTS_FILE!, [...urls].join('\n') + '\n'))

// The operator's command line: `npm run skillet -- <command>`.
//
//   migrate                                   apply database migrations and exit
//   keys create --project NAME [--name N] [--admin]   create a key (printed once)
//   keys list [--project NAME]                list keys (hints only, never secrets)
//   keys revoke KEY_ID                        revoke a key
//   openapi [--out FILE]                      print (or write) the OpenAPI document
import { parseArgs } from 'node:util'
import fs from 'node:fs/promises'
import pino from 'pino'
import { ConfigError, loadConfig } from '../config/index.ts'
import { openRuntime } from '../runtime.ts'
import { createApiKey, listApiKeys, revokeApiKey } from '../services/projects.ts'

const USAGE = `usage: skillet <command>
  migrate
  keys create --project NAME [--name NAME] [--admin]
  keys list [--project NAME]
  keys revoke KEY_ID
  openapi [--out FILE]`

export async function runCli(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { project: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' }, out: { type: 'string' } },
  })
  const [command, sub, arg] = positionals
  const known = command === 'migrate' || command === 'openapi' || (command === 'keys' && ['create', 'list', 'revoke'].includes(sub ?? ''))
  if (!known) {
    out(USAGE)
    return 2
  }
  const config = loadConfig()
  const log = pino({ level: 'warn' })

  if (command === 'openapi') {
    const { generateOpenApiDocument } = await import('../openapi-document.ts')
    const doc = JSON.stringify(await generateOpenApiDocument(), null, 2) + '\n'
    if (values.out) await fs.writeFile(values.out, doc)
    else out(doc)
    return 0
  }

  const runtime = await openRuntime(config, log) // applies migrations
  try {
    if (command === 'migrate') {
      out(`migrations applied (${runtime.database.driver})`)
    } else if (sub === 'create') {
      if (!values.project) {
        out('keys create needs --project NAME')
        return 2
      }
      const created = await createApiKey(runtime.database.db, { project: values.project, name: values.name, isAdmin: values.admin ?? false })
      out(`created ${created.id} for project ${values.project}; the key is shown only this once:`)
      out(created.key)
    } else if (sub === 'list') {
      for (const k of await listApiKeys(runtime.database.db, values.project)) {
        out(`${k.id}\t${k.project}\t${k.name}\t…${k.hint}\t${k.isAdmin ? 'admin' : 'member'}\t${k.revokedAt ? 'revoked' : 'active'}`)
      }
    } else if (sub === 'revoke') {
      if (!arg) {
        out('keys revoke needs KEY_ID')
        return 2
      }
      const revoked = await revokeApiKey(runtime.database.db, arg)
      out(revoked ? `revoked ${arg}` : `no active key ${arg}`)
      return revoked ? 0 : 1
    }
    return 0
  } finally {
    await runtime.close()
  }
}

if (import.meta.main) {
  try {
    process.exitCode = await runCli(process.argv.slice(2))
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`skillet: ${err.message}\n`)
      process.exitCode = 78
    } else throw err
  }
}

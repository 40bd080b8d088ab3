// The operator's command line: `npm run skillet -- <command>`.
//
//   migrate                                   apply database migrations and exit
//   keys create --project NAME [--name N] [--admin]   create a key (printed once)
//   keys list [--project NAME]                list keys (hints only, never secrets)
//   keys revoke KEY_ID                        revoke a key
// With the embedded database held by a running server, `keys …` goes through that server's admin
// routes (on 127.0.0.1:PORT, authenticated with SKILLET_API_KEY) instead of opening the data dir.
//   openapi [--out FILE]                      print (or write) the OpenAPI document
import { parseArgs } from 'node:util'
import fs from 'node:fs/promises'
import pino from 'pino'
import { ConfigError, loadConfig } from '../config/index.ts'
import OpenAI from 'openai'
import { openRuntime, type Runtime } from '../runtime.ts'
import { DataDirLockedError } from '../db/data-dir-lock.ts'
import { databaseKeyAdmin, httpKeyAdmin, type KeyAdmin } from './key-admin.ts'

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

  let runtime: Runtime
  try {
    runtime = await openRuntime(config, log) // applies migrations
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err
    // A live server holds the embedded data dir: manage keys through its admin routes instead.
    const server = `http://127.0.0.1:${config.port}/v1`
    if (command !== 'keys') {
      out(`skillet: ${err.message}`)
      return 1
    }
    if (!config.apiKey) {
      out(`skillet: a running server holds ${config.dataDir}; set SKILLET_API_KEY to an admin key to manage keys through it (${server}/organization/projects)`)
      return 1
    }
    try {
      return await runKeys(httpKeyAdmin(server, config.apiKey), sub, arg, values, out)
    } catch (apiErr) {
      if (apiErr instanceof OpenAI.APIError) {
        out(`skillet: the running server at ${server} answered ${apiErr.status ?? 'nothing'}: ${apiErr.error ? (apiErr.error as { message?: string }).message : apiErr.message}`)
        return 1
      }
      throw apiErr
    }
  }
  try {
    if (command === 'migrate') {
      out(`migrations applied (${runtime.database.driver})`)
      return 0
    }
    return await runKeys(databaseKeyAdmin(runtime.database.db), sub, arg, values, out)
  } finally {
    await runtime.close()
  }
}

async function runKeys(
  admin: KeyAdmin,
  sub: string | undefined,
  arg: string | undefined,
  values: { project?: string; name?: string; admin?: boolean },
  out: (line: string) => void,
): Promise<number> {
  if (sub === 'create') {
    if (!values.project) {
      out('keys create needs --project NAME')
      return 2
    }
    const created = await admin.create({ project: values.project, name: values.name, isAdmin: values.admin ?? false })
    out(`created ${created.id} for project ${values.project}; the key is shown only this once:`)
    out(created.key)
  } else if (sub === 'list') {
    for (const k of await admin.list(values.project)) {
      out(`${k.id}\t${k.project}\t${k.name}\t…${k.hint}\t${k.isAdmin ? 'admin' : 'member'}\t${k.revoked ? 'revoked' : 'active'}`)
    }
  } else if (sub === 'revoke') {
    if (!arg) {
      out('keys revoke needs KEY_ID')
      return 2
    }
    const revoked = await admin.revoke(arg)
    out(revoked ? `revoked ${arg}` : `no active key ${arg}`)
    return revoked ? 0 : 1
  }
  return 0
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

// The OpenAPI document is one a code generator accepts: Redocly's recommended rules pass with no
// error, every operation has a unique operationId, and no path uses a `{*}` wildcard.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const DOC = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))
const REDOCLY = fileURLToPath(new URL('../../node_modules/@redocly/cli/bin/cli.js', import.meta.url))

t.test('redocly lint: no errors', async (t) => {
  const run = await promisify(execFile)(process.execPath, [REDOCLY, 'lint', DOC, '--format=json'], { maxBuffer: 16 << 20 }).catch((err: { stdout?: string; code?: number }) => err)
  const report = JSON.parse((run as { stdout: string }).stdout) as { totals: { errors: number }; problems: { ruleId: string; severity: string; message: string }[] }
  const errors = report.problems.filter((p) => p.severity === 'error')
  t.same(errors.map((e) => `${e.ruleId}: ${e.message}`), [], 'no lint errors')
  t.equal(report.totals.errors, 0)
})

t.test('operationIds everywhere and unique; no wildcard paths; models documented with responses', async (t) => {
  const { default: doc } = await import(DOC, { with: { type: 'json' } })
  const ids: string[] = []
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>)) {
    t.notMatch(path, /\{\*\}/, `${path}: no wildcard`)
    for (const [method, op] of Object.entries(ops)) {
      t.ok(op.operationId, `${method} ${path} has an operationId`)
      ids.push(op.operationId!)
    }
  }
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  for (const path of ['/v1/models/{model}', '/v1/models/{model}/artifacts', '/v1/models/{model}/artifacts/{name}']) {
    t.ok(doc.paths[path]?.get?.responses?.['200'], `${path}: a 200 response schema`)
  }
})

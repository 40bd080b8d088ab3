// Checks SKILLET_KUBERNETES_EXECUTOR (JSON) against KubernetesExecutorConfigSchema
// (src/config/kubernetes-executor-config.ts) field by field at start, so a typo in the Helm values or a
// hand-written ConfigMap stops the worker with the field's path, not a 422 from the API server on the
// first launch. Unknown fields are errors, as they are for the API server.
import { createRequire } from 'node:module'
import { KubernetesExecutorConfigSchema, type KubernetesExecutorConfig } from './kubernetes-executor-config.ts'

// TypeBox's compiler (and the value checker under it, ~250 modules) is loaded and the schema compiled
// on the first check only: the configuration is read synchronously, and a process without the
// Kubernetes executor never needs them (measured with `npm run bench:rss`).
const require = createRequire(import.meta.url)
let compiled: ReturnType<typeof checker> | undefined
function checker() {
  const { Compile } = require('typebox/compile') as typeof import('typebox/compile')
  return Compile(KubernetesExecutorConfigSchema)
}

/**
 * Parses and checks the JSON; returns the config, or one problem per bad field (named by its path,
 * e.g. "/limits/memory must match pattern …"; a problem of the whole value has no path, e.g. "is not
 * valid JSON"). The values are never echoed: extraEnv may hold secrets.
 */
export function parseKubernetesExecutorConfig(json: string): { config: KubernetesExecutorConfig } | { problems: string[] } {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch (err) {
    return { problems: [`is not valid JSON (${(err as Error).message})`] }
  }
  const check = (compiled ??= checker())
  if (check.Check(value)) return { config: value }
  const problems: string[] = []
  for (const e of check.Errors(value)) {
    // TypeBox reports an unknown field twice (as "schema is false" at the field, and at its parent); keep one.
    if (e.keyword === 'boolean') continue
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? []
      for (const name of extra) problems.push(`${e.instancePath}/${name} is not a known field`)
      continue
    }
    problems.push(e.instancePath ? `${e.instancePath} ${e.message}` : e.message)
  }
  return { problems: problems.length > 0 ? [...new Set(problems)] : ['does not have the expected shape'] }
}

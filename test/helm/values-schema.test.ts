// Helm cannot run here, so the chart is checked by what can be: values.yaml against
// values.schema.json (which `helm install` enforces), bad values rejected, and every `.Values.…`
// a template reads present in values.yaml.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Ajv } from 'ajv'
import YAML from 'yaml'
import type { KubernetesExecutorConfig } from '../../src/config/kubernetes-executor-config.ts'

const CHART = path.resolve(import.meta.dirname, '../../helm/skillet')
const values = YAML.parse(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'))
const schema = JSON.parse(fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'))
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema)

const errorsOf = (v: unknown) => (validate(v) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`))
function withChange(change: (v: any) => void): unknown {
  const copy = structuredClone(values)
  change(copy)
  return copy
}

t.test('values.yaml satisfies values.schema.json', async (t) => {
  t.same(errorsOf(values), [])
})

t.test('bad values are rejected', async (t) => {
  const bad: [string, (v: any) => void, RegExp][] = [
    ['unknown top-level key', (v) => (v.replicas = 3), /must NOT have additional properties/],
    ['misspelt trainer key', (v) => (v.trainer.gpus = 2), /\/trainer must NOT have additional properties/],
    ['negative GPU count', (v) => (v.trainer.gpuCount = -1), /\/trainer\/gpuCount must be >= 0/],
    ['GPU count as a string', (v) => (v.trainer.gpuCount = '1'), /\/trainer\/gpuCount must be integer/],
    ['unknown pull policy', (v) => (v.image.pullPolicy = 'Sometimes'), /\/image\/pullPolicy must be equal to one of the allowed values/],
    ['malformed memory quantity', (v) => (v.trainer.resources.limits.memory = '32 GB'), /\/trainer\/resources\/limits\/memory must match pattern/],
    ['queue name that is not a DNS name', (v) => (v.trainer.kueue.queueName = 'GPU_Queue'), /\/trainer\/kueue\/queueName must match pattern/],
    ['zero API replicas', (v) => (v.api.replicas = 0), /\/api\/replicas must be >= 1/],
    ['missing database secret', (v) => delete v.existingSecrets.database, /\/existingSecrets must have required property 'database'/],
    ['root pods', (v) => (v.podSecurityContext.runAsNonRoot = false), /\/podSecurityContext\/runAsNonRoot must be equal to constant/],
    ['bad log level', (v) => (v.config.logLevel = 'verbose'), /\/config\/logLevel must be equal to one of the allowed values/],
    ['unknown inference engine', (v) => (v.inference.engine = 'tgi'), /\/inference\/engine must be equal to one of the allowed values/],
    ['inference port as a string', (v) => (v.inference.port = '8080'), /\/inference\/port must be integer/],
    ['misspelt inference key', (v) => (v.inference.gpus = 1), /\/inference must NOT have additional properties/],
  ]
  for (const [what, change, expected] of bad) t.match(errorsOf(withChange(change)).join('\n'), expected, what)
})

t.test('every .Values path a template reads exists in values.yaml', async (t) => {
  const dir = path.join(CHART, 'templates')
  const missing: string[] = []
  let count = 0
  for (const file of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8')
    for (const [, ref] of text.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) {
      count++
      let node: any = values
      for (const part of ref.replace(/\.$/, '').split('.')) node = node?.[part]
      if (node === undefined) missing.push(`${file}: .Values.${ref}`)
    }
  }
  t.ok(count > 50, `templates read ${count} values`)
  t.same(missing, [])
})

t.test('the executor config the ConfigMap assembles uses only KubernetesExecutorConfig keys', async (t) => {
  // Listing every key here is checked by the compiler against the interface (both ways).
  const keys = {
    namespace: 1, image: 1, imagePullPolicy: 1, imagePullSecrets: 1, command: 1, args: 1, gpuCount: 1, gpuResourceName: 1,
    requests: 1, limits: 1, nodeSelector: 1, tolerations: 1, affinity: 1, priorityClassName: 1, kueueQueueName: 1,
    kueuePriorityClass: 1, backoffLimit: 1, activeDeadlineSeconds: 1, ttlSecondsAfterFinished: 1, shmSize: 1, scratchSize: 1,
    cudaCacheClaimName: 1, s3SecretName: 1, serviceAccountName: 1, unschedulableTimeoutSeconds: 1, badInputExitCode: 1,
    runAsUser: 1, extraEnv: 1, extraVolumes: 1, extraVolumeMounts: 1,
  } satisfies Record<keyof KubernetesExecutorConfig, 1>
  const template = fs.readFileSync(path.join(CHART, 'templates/configmap.yaml'), 'utf8')
  const used = [...template.matchAll(/^\s+"(\w+)" /gm), ...template.matchAll(/set \$executor "(\w+)"/g)].map((m) => m[1])
  t.ok(used.length >= 20, `${used.length} keys set`)
  t.same(used.filter((k) => !(k in keys)), [])
})

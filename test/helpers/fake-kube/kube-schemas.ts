// Validates Kubernetes objects against the official OpenAPI v3 documents in
// ../shared/reference/kubernetes (Kubernetes 1.35), prepared as that folder's README says, and
// tightened the way the API server's strict field validation behaves: an unknown field is an error.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

const SPEC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/reference/kubernetes')

/** The schema of each kind this project sends, by the document that holds it. */
const KINDS = {
  Job: ['batch', 'io.k8s.api.batch.v1.Job'],
  Secret: ['core', 'io.k8s.api.core.v1.Secret'],
  Pod: ['core', 'io.k8s.api.core.v1.Pod'],
  DeleteOptions: ['core', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'],
  // What the Helm chart renders (test/helm/render.test.ts); apps/v1 is not among the documents, so a
  // Deployment is checked by its parts (metadata, selector, pod template).
  ConfigMap: ['core', 'io.k8s.api.core.v1.ConfigMap'],
  Service: ['core', 'io.k8s.api.core.v1.Service'],
  ServiceAccount: ['core', 'io.k8s.api.core.v1.ServiceAccount'],
  ObjectMeta: ['core', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'],
  LabelSelector: ['core', 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'],
  PodTemplateSpec: ['core', 'io.k8s.api.core.v1.PodTemplateSpec'],
} as const
export type KubeKind = keyof typeof KINDS

// The Quantity grammar from resource.Quantity's own description: a signed decimal number and a suffix.
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/
const QUANTITY_SCHEMA = 'io.k8s.apimachinery.pkg.api.resource.Quantity'

/** Every object schema with `properties` gets `additionalProperties: false` (the upstream documents never say it). */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(closeObjects)
  if (node === null || typeof node !== 'object') return
  const schema = node as Record<string, unknown>
  if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false
  for (const key of ['items', 'additionalProperties', 'allOf', 'anyOf', 'oneOf', 'not']) closeObjects(schema[key])
  if (schema.properties) Object.values(schema.properties).forEach(closeObjects)
}

function loadDocument(file: string): { components: { schemas: Record<string, Record<string, unknown>> } } {
  const doc = JSON.parse(fs.readFileSync(path.join(SPEC_DIR, file), 'utf8'))
  for (const schema of Object.values(doc.components.schemas)) closeObjects(schema)
  // Quantity is `oneOf [string, number]` upstream; the API server parses the string, so check its grammar.
  doc.components.schemas[QUANTITY_SCHEMA].oneOf = [{ type: 'string', format: 'quantity' }, { type: 'number' }]
  return doc
}

function createAjv(): Ajv {
  // strictTypes off: IntOrString has `format` without `type`.
  const ajv = new Ajv({ allErrors: true, strictTypes: false })
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule
  ;(addFormats as unknown as (a: Ajv, formats: string[]) => void)(ajv, ['date-time', 'byte'])
  ajv.addVocabulary([
    'openapi',
    'info',
    'paths',
    'components',
    'x-kubernetes-group-version-kind',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-patch-merge-key',
    'x-kubernetes-patch-strategy',
    'x-kubernetes-unions',
    'x-kubernetes-int-or-string',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
  ])
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) })
  // The `oneOf [integer, string]` beside it already says what IntOrString may hold.
  ajv.addFormat('int-or-string', true)
  ajv.addFormat('quantity', QUANTITY)
  ajv.addSchema(loadDocument('apis__batch__v1_openapi.json'), 'batch')
  ajv.addSchema(loadDocument('api__v1_openapi.json'), 'core')
  return ajv
}

let ajv: Ajv | undefined
const compiled = new Map<KubeKind, ValidateFunction>()

/** The problems with `object` as a `kind`, each as "path: message"; empty when it is valid. */
export function kubeSchemaErrors(kind: KubeKind, object: unknown): string[] {
  ajv ??= createAjv()
  let validate = compiled.get(kind)
  if (!validate) {
    const [doc, name] = KINDS[kind]
    validate = ajv.getSchema(`${doc}#/components/schemas/${name}`)
    if (!validate) throw new Error(`no schema ${name}`)
    compiled.set(kind, validate)
  }
  if (validate(object)) return []
  return (validate.errors ?? []).map((e) => {
    const where = e.instancePath || '(root)'
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : ''
    return `${where}: ${e.message}${extra}`
  })
}

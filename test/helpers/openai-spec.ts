// Validates response bodies against OpenAI's own OpenAPI spec (../shared/reference/openai), prepared
// for Ajv as that folder's README says: examples and x-oaiMeta dropped, `nullable: true` rewritten as
// anyOf [schema, null], boolean exclusiveMinimum rewritten as a number.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import YAML from 'yaml'
import type { Test } from 'tap'

const SPEC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/reference/openai')
const SPEC_PATH = path.join(SPEC_DIR, 'openai-fine-tuning.openapi.yaml')
/** The inference subset (chat completions, completions, graders), registered as `openai-inference`. */
const INFERENCE_SPEC_PATH = path.join(SPEC_DIR, 'openai-inference.openapi.yaml')

function prepare(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(prepare)
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === 'x-oaiMeta' || k === 'example' || k === 'examples') continue
    out[k] = prepare(v)
  }
  if (out.exclusiveMinimum === true && typeof out.minimum === 'number') {
    out.exclusiveMinimum = out.minimum
    delete out.minimum
  }
  if (out.nullable === true) {
    delete out.nullable
    return { anyOf: [out, { type: 'null' }] }
  }
  return out
}

/**
 * Where the live API (and so Skillet) differs from the published spec, as listed in
 * ../shared/README.md: jobs also take status pausing/paused; an empty file list has null cursors.
 */
function applyKnownGaps(schemas: Record<string, any>): void {
  const status = schemas.FineTuningJob?.properties?.status
  if (status?.enum) status.enum = [...status.enum, 'pausing', 'paused']
  for (const k of ['first_id', 'last_id']) {
    const prop = schemas.ListFilesResponse.properties[k]
    schemas.ListFilesResponse.properties[k] = { anyOf: [prop, { type: 'null' }] }
  }
}

let ajv: Ajv2020 | undefined
function getAjv(): Ajv2020 {
  if (ajv) return ajv
  const spec = YAML.parse(fs.readFileSync(SPEC_PATH, 'utf8')) as { components: unknown }
  ajv = new Ajv2020({ strict: false, allErrors: true })
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule
  ;(addFormats as unknown as (a: Ajv2020) => void)(ajv)
  ajv.addFormat('unixtime', true)
  ajv.addFormat('binary', true)
  const components = prepare(spec.components) as { schemas: Record<string, any> }
  applyKnownGaps(components.schemas)
  ajv.addSchema({ $id: 'openai', components })
  const inference = YAML.parse(fs.readFileSync(INFERENCE_SPEC_PATH, 'utf8')) as { components: unknown }
  ajv.addSchema({ $id: 'openai-inference', components: prepare(inference.components) })
  return ajv
}

/** Errors (empty when valid) of `body` against components/schemas/`name` of OpenAI's spec. */
export function specErrors(name: string, body: unknown): string[] {
  const validate = getAjv().getSchema(`openai#/components/schemas/${name}`) ?? getAjv().getSchema(`openai-inference#/components/schemas/${name}`)
  if (!validate) throw new Error(`no schema ${name} in the OpenAI spec`)
  if (validate(body)) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
}

/** A tap assertion: the body validates against the named OpenAI schema. */
export function assertSpec(t: Test, name: string, body: unknown): void {
  const errors = specErrors(name, body)
  t.same(errors, [], `response matches OpenAI's ${name}`)
}


/** Asserts that an SDK call fails with an APIError matching `wanted` (e.g. {status: 400, param: 'purpose'}). */
export async function assertApiError(t: Test, call: Promise<unknown>, wanted: Record<string, unknown>): Promise<void> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(err, 'the call fails')
  t.match(err, wanted)
  const body = (err as { error?: unknown }).error
  if (body !== undefined) t.same(specErrors('Error', body), [], 'error matches OpenAI Error')
}

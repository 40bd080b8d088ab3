// Checks a grader as a request gives it and returns it typed (a multi grader's sub-graders by
// name), or a 400 naming the field: an unknown type, a field of the wrong shape, `python`
// (Skillet runs no user code), `cosine` (no embeddings model), a model grader with no model
// endpoint configured, a formula that does not parse or names no sub-grader.
import { createRequire } from 'node:module'
import { invalidRequest } from '../lib/errors.ts'
import { GRADER_SCHEMAS, type Grader } from '../schemas/graders.ts'
import { FormulaError, formulaVariables } from './multi.ts'

export interface ParseOptions {
  /** Whether score_model / label_model graders can run (SKILLET_GRADER_MODEL_URL is set). */
  modelGraders: boolean
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

// TypeBox's value checker (~250 modules) is loaded on the first grader checked, not at API start
// (measured with `npm run bench:rss`); parseGrader stays synchronous.
const require = createRequire(import.meta.url)

function checkShape(raw: Record<string, unknown>, type: string, param: string): void {
  const schema = GRADER_SCHEMAS[type]
  const { Value } = require('typebox/value') as typeof import('typebox/value')
  if (Value.Check(schema, raw)) return
  const [first] = Value.Errors(schema, raw)
  const path = first.instancePath.split('/').filter(Boolean).join('.')
  throw invalidRequest(`Invalid ${type} grader: ${path ? `'${path}' ` : ''}${first.message}.`, path ? `${param}.${path}` : param)
}

export function parseGrader(raw: unknown, options: ParseOptions, param = 'grader', nested = false): Grader {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest('A grader must be an object with a type.', param)
  const g = raw as Record<string, unknown>
  const type = g.type
  if (type === 'python') {
    throw invalidRequest('Python graders are not supported: Skillet runs no user code. Use string_check, text_similarity, score_model, label_model or multi.', `${param}.type`, 'unsupported_grader')
  }
  if (typeof type !== 'string' || !Object.hasOwn(GRADER_SCHEMAS, type)) {
    throw invalidRequest(`Unknown grader type ${JSON.stringify(type)}: one of string_check, text_similarity, score_model, label_model, multi.`, `${param}.type`)
  }
  if (type === 'multi' && nested) throw invalidRequest('A multi grader cannot contain another multi grader.', `${param}.type`)
  checkShape(g, type, param)
  if (type === 'text_similarity' && g.evaluation_metric === 'cosine') {
    throw invalidRequest("The 'cosine' metric needs an embeddings model, which Skillet does not have: use fuzzy_match, bleu, gleu, meteor or rouge_1 … rouge_l.", `${param}.evaluation_metric`, 'unsupported_grader')
  }
  if (type === 'score_model' || type === 'label_model') {
    if (!options.modelGraders) {
      throw invalidRequest(`${type} graders call a model: set SKILLET_GRADER_MODEL_URL to an OpenAI-compatible endpoint (Skillet's own /v1 works) to use them.`, `${param}.type`, 'unsupported_grader')
    }
    if (type === 'label_model') {
      const labels = g.labels as string[]
      const stray = (g.passing_labels as string[]).find((l) => !labels.includes(l))
      if (stray !== undefined) throw invalidRequest(`passing_labels must be a subset of labels: '${stray}' is not a label.`, `${param}.passing_labels`)
    }
  }
  if (type !== 'multi') return g as Grader
  // The spec's form is one grader; the live API's is a map of names to graders.
  const subs = g.graders as Record<string, unknown>
  const byName: Record<string, unknown> = typeof subs.type === 'string' ? { [String(subs.name)]: subs } : subs
  const graders: Record<string, Grader> = {}
  for (const [name, sub] of Object.entries(byName)) {
    if (!IDENTIFIER.test(name)) throw invalidRequest(`Sub-grader name '${name}' must be an identifier (letters, digits, _) so calculate_output can use it.`, `${param}.graders`)
    graders[name] = parseGrader(sub, options, typeof subs.type === 'string' ? `${param}.graders` : `${param}.graders.${name}`, true)
  }
  if (Object.keys(graders).length === 0) throw invalidRequest('A multi grader needs at least one sub-grader.', `${param}.graders`)
  const formula = g.calculate_output as string
  let variables: string[]
  try {
    variables = formulaVariables(formula)
  } catch (err) {
    if (err instanceof FormulaError) throw invalidRequest(err.message, `${param}.calculate_output`)
    throw err
  }
  const unknown = variables.find((v) => !Object.hasOwn(graders, v))
  if (unknown !== undefined) throw invalidRequest(`calculate_output uses '${unknown}', which is not one of the sub-graders (${Object.keys(graders).join(', ')}).`, `${param}.calculate_output`)
  return { type: 'multi', name: g.name as string, graders, calculate_output: formula }
}

// Template strings in grader fields, as OpenAI's graders take them: `{{item.field}}` from the
// dataset item, `{{sample.output_text}}` (the model's answer), `{{sample.output_json.key}}` (the
// answer parsed as JSON, when it is JSON). Nested paths use dots; whitespace inside the braces is
// allowed. A value that is not a string is written as JSON. A variable that names nothing renders
// as '' and is reported (the run's invalid_variable_error).

export interface GradingContext {
  item: Record<string, unknown>
  sample: { output_text: string; output_json: unknown }
}

export function gradingContext(item: Record<string, unknown> | undefined, modelSample: string): GradingContext {
  let outputJson: unknown = null
  try {
    outputJson = JSON.parse(modelSample)
  } catch {
    // not JSON: output_json stays null
  }
  return { item: item ?? {}, sample: { output_text: modelSample, output_json: outputJson } }
}

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g

function lookup(context: GradingContext, path: string): unknown {
  let value: unknown = context
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

export interface Rendered {
  text: string
  /** Variables that named nothing. */
  missing: string[]
}

export function renderTemplate(template: string, context: GradingContext): Rendered {
  const missing: string[] = []
  const text = template.replace(VARIABLE, (_whole, path: string) => {
    const root = path.split('.')[0]
    const value = root === 'item' || root === 'sample' ? lookup(context, path) : undefined
    if (value === undefined) {
      missing.push(path)
      return ''
    }
    return typeof value === 'string' ? value : JSON.stringify(value)
  })
  return { text, missing }
}

// multi: sub-graders combined by a `calculate_output` formula over their names, e.g.
// "0.7 * exact + 0.3 * similar". The formula is parsed and evaluated by expr-eval-fork (arithmetic,
// comparisons, min/max/abs/… — no assignment, no function definitions, nothing that reaches
// JavaScript), never by eval.
import { Parser } from 'expr-eval-fork'

const parser = new Parser({
  operators: { assignment: false, fndef: false, concatenate: false, in: false, random: false, conditional: true, logical: true, comparison: true },
})

export class FormulaError extends Error {}

/** The variables a formula uses; a FormulaError when it does not parse. */
export function formulaVariables(formula: string): string[] {
  try {
    return parser.parse(formula).variables()
  } catch (err) {
    throw new FormulaError(`calculate_output does not parse: ${(err as Error).message}`)
  }
}

/** The formula's value with `scores` for its variables; a FormulaError when it is not a finite number. */
export function evaluateFormula(formula: string, scores: Record<string, number>): number {
  let value: unknown
  try {
    value = parser.parse(formula).evaluate(scores)
  } catch (err) {
    throw new FormulaError(`calculate_output could not be evaluated: ${(err as Error).message}`)
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new FormulaError(`calculate_output gave ${String(value)}, not a finite number`)
  return value
}

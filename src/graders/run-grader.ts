// Runs a checked grader (parse-grader.ts) on one model sample and dataset item, and reports the
// result in OpenAI's RunGraderResponse shape: the reward, each grader's score, what went wrong
// (a template variable that names nothing, a model grader's failure, a formula's), the time taken
// and a model grader's token usage. Shared by POST /v1/fine_tuning/alpha/graders/run and by
// evaluations that score checkpoints.
import type { Grader, GraderErrorsT, RunGraderResponseT } from '../schemas/graders.ts'
import { runModelGrader, type ModelEndpoint } from './model-grader.ts'
import { evaluateFormula, FormulaError } from './multi.ts'
import { stringCheck } from './string-check.ts'
import { renderTemplate, type GradingContext } from './template.ts'
import { textSimilarity, type TextSimilarityMetric } from './text-similarity.ts'

export interface RunOptions {
  /** Where model graders send their prompts; parse-grader refuses them when there is none. */
  modelEndpoint?: ModelEndpoint
}

function noErrors(): GraderErrorsT {
  return {
    formula_parse_error: false, sample_parse_error: false, truncated_observation_error: false, unresponsive_reward_error: false,
    invalid_variable_error: false, other_error: false, python_grader_server_error: false, python_grader_server_error_type: null,
    python_grader_runtime_error: false, python_grader_runtime_error_details: null, model_grader_server_error: false,
    model_grader_refusal_error: false, model_grader_parse_error: false, model_grader_server_error_details: null,
  }
}

interface Scored {
  score: number
  errors: GraderErrorsT
  usage: Record<string, { prompt_tokens: number; completion_tokens: number; total_tokens: number }>
  sampledModel: string | null
  /** A multi grader's sub-graders' scores, by name. */
  subs?: Record<string, number>
}

async function score(grader: Grader, context: GradingContext, options: RunOptions): Promise<Scored> {
  const errors = noErrors()
  const usage: Scored['usage'] = {}
  const render = (template: string) => {
    const r = renderTemplate(template, context)
    if (r.missing.length > 0) errors.invalid_variable_error = true
    return r.text
  }
  switch (grader.type) {
    case 'string_check':
      return { score: stringCheck(render(grader.input), render(grader.reference), grader.operation), errors, usage, sampledModel: null }
    case 'text_similarity':
      return { score: textSimilarity(render(grader.input), render(grader.reference), grader.evaluation_metric as TextSimilarityMetric), errors, usage, sampledModel: null }
    case 'score_model':
    case 'label_model': {
      if (!options.modelEndpoint) throw new Error('model graders need a model endpoint (parse-grader checks this)')
      const r = await runModelGrader(grader, context, options.modelEndpoint)
      if (r.missingVariables.length > 0) errors.invalid_variable_error = true
      if (r.error?.kind === 'server') Object.assign(errors, { model_grader_server_error: true, model_grader_server_error_details: r.error.details })
      if (r.error?.kind === 'parse') errors.model_grader_parse_error = true
      if (r.error?.kind === 'refusal') errors.model_grader_refusal_error = true
      if (r.usage) usage[grader.model] = r.usage
      return { score: r.score, errors, usage, sampledModel: grader.model }
    }
    case 'multi': {
      const scores: Record<string, number> = {}
      let sampledModel: string | null = null
      for (const [name, sub] of Object.entries(grader.graders)) {
        const r = await score(sub, context, options)
        scores[name] = r.score
        for (const [key, value] of Object.entries(r.errors)) if (value === true) (errors as Record<string, unknown>)[key] = true
        if (r.errors.model_grader_server_error_details) errors.model_grader_server_error_details = r.errors.model_grader_server_error_details
        for (const [model, u] of Object.entries(r.usage)) {
          const sum = usage[model] ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
          usage[model] = { prompt_tokens: sum.prompt_tokens + u.prompt_tokens, completion_tokens: sum.completion_tokens + u.completion_tokens, total_tokens: sum.total_tokens + u.total_tokens }
        }
        sampledModel = r.sampledModel ?? sampledModel
      }
      try {
        return { score: evaluateFormula(grader.calculate_output, scores), errors, usage, sampledModel, subs: scores }
      } catch (err) {
        if (!(err instanceof FormulaError)) throw err
        errors.formula_parse_error = true
        return { score: 0, errors, usage, sampledModel, subs: scores }
      }
    }
  }
}

export async function runGrader(grader: Grader, context: GradingContext, options: RunOptions = {}): Promise<RunGraderResponseT> {
  const started = performance.now()
  const r = await score(grader, context, options)
  const scores = r.subs ?? { [grader.name]: r.score }
  const totalTokens = Object.values(r.usage).reduce((n, u) => n + u.total_tokens, 0)
  return {
    reward: r.score,
    metadata: {
      name: grader.name,
      type: grader.type,
      errors: r.errors,
      execution_time: (performance.now() - started) / 1000,
      scores,
      token_usage: Object.keys(r.usage).length > 0 ? totalTokens : null,
      sampled_model_name: r.sampledModel,
    },
    sub_rewards: grader.type === 'multi' ? scores : {},
    model_grader_token_usage_per_model: r.usage,
  }
}

// score_model and label_model: the grader's prompt (template strings rendered) goes to an
// OpenAI-compatible Chat Completions endpoint (SKILLET_GRADER_MODEL_URL — Skillet's own /v1 works),
// which must answer JSON by a schema: {"result": number} for a score, {"result": label} for a label.
// What goes wrong is reported the way OpenAI reports it, in the run's errors, never as a 500.
import type OpenAI from 'openai'
import type { LabelModelGraderT, ScoreModelGraderT } from '../schemas/graders.ts'
import { renderTemplate, type GradingContext } from './template.ts'

export interface ModelEndpoint {
  url: string
  apiKey: string | undefined
  timeoutMs: number
}

export interface ModelGrade {
  score: number
  /** The model's answer (a number or a label), for the run's scores. */
  answer: unknown
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null
  missingVariables: string[]
  error: { kind: 'server' | 'parse' | 'refusal'; details: string } | null
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('')
  if (content && typeof content === 'object' && typeof (content as { text?: unknown }).text === 'string') return (content as { text: string }).text
  return ''
}

export async function runModelGrader(grader: ScoreModelGraderT | LabelModelGraderT, context: GradingContext, endpoint: ModelEndpoint): Promise<ModelGrade> {
  const missing: string[] = []
  const messages = grader.input.map((m) => {
    const rendered = renderTemplate(textOf(m.content), context)
    missing.push(...rendered.missing)
    return { role: m.role, content: rendered.text } as OpenAI.ChatCompletionMessageParam
  })
  const range = grader.type === 'score_model' ? (grader.range ?? [0, 1]) : null
  const result = range ? { type: 'number', minimum: range[0], maximum: range[1] } : { type: 'string', enum: (grader as LabelModelGraderT).labels }
  // The SDK (about 37 MB and 240 modules) is loaded on the first model grader, not with the API.
  const { default: OpenAIClient } = await import('openai')
  const client = new OpenAIClient({ baseURL: endpoint.url, apiKey: endpoint.apiKey ?? 'none', timeout: endpoint.timeoutMs, maxRetries: 1 })
  const sampling = grader.type === 'score_model' ? grader.sampling_params : undefined
  const failed = (kind: 'server' | 'parse' | 'refusal', details: string, usage: ModelGrade['usage'] = null): ModelGrade => ({ score: 0, answer: null, usage, missingVariables: missing, error: { kind, details } })
  let completion: OpenAI.ChatCompletion
  try {
    completion = await client.chat.completions.create({
      model: grader.model,
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'grade', strict: true, schema: { type: 'object', properties: { result }, required: ['result'], additionalProperties: false } } },
      ...(sampling?.seed != null ? { seed: sampling.seed } : {}),
      ...(sampling?.temperature != null ? { temperature: sampling.temperature } : {}),
      ...(sampling?.top_p != null ? { top_p: sampling.top_p } : {}),
      ...(sampling?.max_completions_tokens != null ? { max_completion_tokens: sampling.max_completions_tokens } : {}),
    })
  } catch (err) {
    return failed('server', (err as Error).message)
  }
  const usage = completion.usage ? { prompt_tokens: completion.usage.prompt_tokens, completion_tokens: completion.usage.completion_tokens, total_tokens: completion.usage.total_tokens } : null
  const message = completion.choices[0]?.message
  if (message?.refusal) return failed('refusal', message.refusal, usage)
  let answer: unknown
  try {
    answer = (JSON.parse(message?.content ?? '') as { result?: unknown }).result
  } catch {
    return failed('parse', `the model's answer is not JSON: ${JSON.stringify((message?.content ?? '').slice(0, 200))}`, usage)
  }
  if (range) {
    if (typeof answer !== 'number' || !Number.isFinite(answer) || answer < range[0] || answer > range[1]) return failed('parse', `the model's score ${JSON.stringify(answer)} is not a number in [${range[0]}, ${range[1]}]`, usage)
    return { score: answer, answer, usage, missingVariables: missing, error: null }
  }
  const label = grader as LabelModelGraderT
  if (typeof answer !== 'string' || !label.labels.includes(answer)) return failed('parse', `the model's label ${JSON.stringify(answer)} is not one of ${label.labels.join(', ')}`, usage)
  return { score: label.passing_labels.includes(answer) ? 1 : 0, answer, usage, missingVariables: missing, error: null }
}

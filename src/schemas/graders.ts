// The alpha graders API (/v1/fine_tuning/alpha/graders/run and /validate) as OpenAI's spec
// describes it. Each grader type has its own schema; the routes take the grader as an object and
// src/graders/parse-grader.ts checks it against the schema of its `type`, so a mistake is named
// precisely (`grader.operation`, `grader.graders.exact.reference`) rather than as "no union member".
import { Type, type Static, type TSchema } from 'typebox'

const Name = Type.String({ description: 'The name of the grader.' })
const Template = (description: string) => Type.String({ description: `${description} May include template strings ({{item.x}}, {{sample.output_text}}).` })

export const StringCheckGrader = Type.Object({
  type: Type.Literal('string_check'),
  name: Name,
  input: Template('The input text.'),
  reference: Template('The reference text.'),
  operation: Type.Union([Type.Literal('eq'), Type.Literal('ne'), Type.Literal('like'), Type.Literal('ilike')]),
})

export const TextSimilarityGrader = Type.Object({
  type: Type.Literal('text_similarity'),
  name: Name,
  input: Template('The text being graded.'),
  reference: Template('The text being graded against.'),
  evaluation_metric: Type.Union(['cosine', 'fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l'].map((m) => Type.Literal(m))),
  pass_threshold: Type.Optional(Type.Number()),
})

export const PythonGrader = Type.Object({ type: Type.Literal('python'), name: Name, source: Type.String(), image_tag: Type.Optional(Type.String()) })

/** A chat message of a model grader's prompt; content is text with template strings. */
const EvalItem = Type.Object({
  role: Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system'), Type.Literal('developer')]),
  content: Type.Unknown(),
  type: Type.Optional(Type.Literal('message')),
})

export const ScoreModelGrader = Type.Object({
  type: Type.Literal('score_model'),
  name: Name,
  model: Type.String(),
  input: Type.Array(EvalItem, { minItems: 1 }),
  range: Type.Optional(Type.Tuple([Type.Number(), Type.Number()])),
  sampling_params: Type.Optional(Type.Object({
    seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    max_completions_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    reasoning_effort: Type.Optional(Type.Unknown()),
  })),
})

export const LabelModelGrader = Type.Object({
  type: Type.Literal('label_model'),
  name: Name,
  model: Type.String(),
  input: Type.Array(EvalItem, { minItems: 1 }),
  labels: Type.Array(Type.String(), { minItems: 1 }),
  passing_labels: Type.Array(Type.String(), { minItems: 1 }),
})

/** `graders` is one grader (the spec's form) or a map of names to graders (the live API's form). */
export const MultiGrader = Type.Object({
  type: Type.Literal('multi'),
  name: Name,
  graders: Type.Record(Type.String(), Type.Unknown()),
  calculate_output: Type.String({ minLength: 1 }),
})

export const GRADER_SCHEMAS: Record<string, TSchema> = {
  string_check: StringCheckGrader,
  text_similarity: TextSimilarityGrader,
  python: PythonGrader,
  score_model: ScoreModelGrader,
  label_model: LabelModelGrader,
  multi: MultiGrader,
}

export type StringCheckGraderT = Static<typeof StringCheckGrader>
export type TextSimilarityGraderT = Static<typeof TextSimilarityGrader>
export type ScoreModelGraderT = Static<typeof ScoreModelGrader>
export type LabelModelGraderT = Static<typeof LabelModelGrader>

/** A grader as parse-grader.ts returns it: checked, a multi grader's sub-graders by name. */
export type Grader =
  | StringCheckGraderT
  | TextSimilarityGraderT
  | ScoreModelGraderT
  | LabelModelGraderT
  | { type: 'multi'; name: string; graders: Record<string, Grader>; calculate_output: string }

const AnyGrader = Type.Object({ type: Type.String(), name: Type.Optional(Type.String()) }, { additionalProperties: true, description: 'A grader: string_check, text_similarity, score_model, label_model, multi (python is not supported).' })

export const RunGraderRequest = Type.Object({
  grader: AnyGrader,
  item: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'The dataset item: the `item` namespace of template strings.' })),
  model_sample: Type.String({ description: 'The model sample to grade: `sample.output_text` (and `sample.output_json` when it is JSON).' }),
})

export const ValidateGraderRequest = Type.Object({ grader: AnyGrader })
export const ValidateGraderResponse = Type.Object({ grader: AnyGrader })

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

export const GraderErrors = Type.Object({
  formula_parse_error: Type.Boolean(),
  sample_parse_error: Type.Boolean(),
  truncated_observation_error: Type.Boolean(),
  unresponsive_reward_error: Type.Boolean(),
  invalid_variable_error: Type.Boolean(),
  other_error: Type.Boolean(),
  python_grader_server_error: Type.Boolean(),
  python_grader_server_error_type: Nullable(Type.String()),
  python_grader_runtime_error: Type.Boolean(),
  python_grader_runtime_error_details: Nullable(Type.String()),
  model_grader_server_error: Type.Boolean(),
  model_grader_refusal_error: Type.Boolean(),
  model_grader_parse_error: Type.Boolean(),
  model_grader_server_error_details: Nullable(Type.String()),
})
export type GraderErrorsT = Static<typeof GraderErrors>

export const RunGraderResponse = Type.Object({
  reward: Type.Number(),
  metadata: Type.Object({
    name: Type.String(),
    type: Type.String(),
    errors: GraderErrors,
    execution_time: Type.Number(),
    scores: Type.Record(Type.String(), Type.Unknown()),
    token_usage: Nullable(Type.Integer()),
    sampled_model_name: Nullable(Type.String()),
  }),
  sub_rewards: Type.Record(Type.String(), Type.Unknown()),
  model_grader_token_usage_per_model: Type.Record(Type.String(), Type.Unknown()),
})
export type RunGraderResponseT = Static<typeof RunGraderResponse>

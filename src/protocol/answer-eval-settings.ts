// The answer evaluation a job may choose (Skillet's extensions `eval_graders`, `eval_json_schema`,
// `eval_max_examples`, `eval_max_new_tokens`): at each checkpoint the trainer answers validation
// prompts greedily and scores each answer against the reference assistant message with these
// graders. Shared by the API that checks a request and the trainer that runs it.
import { Type, type Static } from 'typebox'

/**
 * The graders by name: `exact_match` is string_check `eq`; the similarity metrics are
 * text_similarity's; `valid_json` scores 1 when the answer parses as JSON; `json_schema` when it
 * parses and matches the job's `eval_json_schema`.
 */
export const ANSWER_GRADERS = ['exact_match', 'fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l', 'valid_json', 'json_schema'] as const
export type AnswerGrader = (typeof ANSWER_GRADERS)[number]

/** Used when a job names no graders; `valid_json` joins them when every reference answer is JSON. */
export const DEFAULT_ANSWER_GRADERS: readonly AnswerGrader[] = ['exact_match', 'fuzzy_match']

/**
 * Bounds (README, Limits): examples scored per checkpoint and tokens per answer (the cost), and the
 * size of eval_json_schema as JSON (it travels in the trainer's environment).
 */
export const ANSWER_EVAL_LIMITS = { maxExamples: 1000, maxNewTokens: 1024, maxJsonSchemaBytes: 16384 } as const
export const ANSWER_EVAL_DEFAULTS = { maxExamples: 100, maxNewTokens: 64 } as const

/** The name a grader's mean score has in checkpoint metrics, events and the choice of best checkpoint. */
export const answerMetricName = (grader: AnswerGrader) => `eval_${grader}` as const

/** Every metric the answer evaluation can report: all higher-is-better, 0 … 1. */
export const ANSWER_METRICS = ANSWER_GRADERS.map(answerMetricName)

/** The job's choices, in the trainer's spec; each absent one is the default above. */
export const AnswerEvalChoicesSchema = Type.Object({
  /** Empty: no answer evaluation. */
  graders: Type.Optional(Type.Array(Type.Enum(ANSWER_GRADERS), { uniqueItems: true })),
  jsonSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  maxExamples: Type.Optional(Type.Integer({ minimum: 1, maximum: ANSWER_EVAL_LIMITS.maxExamples })),
  maxNewTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: ANSWER_EVAL_LIMITS.maxNewTokens })),
})
export type AnswerEvalChoices = Static<typeof AnswerEvalChoicesSchema>

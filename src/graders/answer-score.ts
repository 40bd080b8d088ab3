// One answer scored against its reference by one of the answer evaluation's graders
// (src/protocol/answer-eval-settings.ts), through the graders the graders API runs: exact_match is
// string_check `eq`, the similarity metrics are text_similarity's, valid_json and json_schema the
// structured-output checks. 0 … 1.
import type { AnswerGrader } from '../protocol/answer-eval-settings.ts'
import { matchesJsonSchema, validJson } from './json-check.ts'
import { stringCheck } from './string-check.ts'
import { textSimilarity } from './text-similarity.ts'

export function scoreAnswer(grader: AnswerGrader, answer: string, reference: string, jsonSchema?: Record<string, unknown>): number {
  switch (grader) {
    case 'exact_match':
      return stringCheck(answer, reference, 'eq')
    case 'valid_json':
      return validJson(answer)
    case 'json_schema':
      if (!jsonSchema) throw new Error('the json_schema grader needs a schema (the API requires eval_json_schema with it)')
      return matchesJsonSchema(answer, jsonSchema)
    default:
      return textSimilarity(answer, reference, grader)
  }
}

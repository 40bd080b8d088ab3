// Golden tables: the similarity metrics against the reference implementations. fuzzy_match, BLEU,
// GLEU and METEOR figures were computed with rapidfuzz 3 (`fuzz.ratio / 100`) and NLTK 3.10
// (`sentence_bleu`, `sentence_gleu`, `meteor_score` with an identity stemmer and no WordNet, i.e.
// exact matches only), on whitespace-split words. ROUGE figures are worked by hand from rouge-score's
// definitions (F-measure; lowercase, non-alphanumerics separate words). Then the structured-output
// checks (valid JSON, JSON Schema) and the answer evaluation's graders, which run the same code.
import t from 'tap'
import { textSimilarity, type TextSimilarityMetric } from '../../src/graders/text-similarity.ts'
import { stringCheck } from '../../src/graders/string-check.ts'
import { scoreAnswer } from '../../src/graders/answer-score.ts'
import { matchesJsonSchema, validJson } from '../../src/graders/json-check.ts'
import type { AnswerGrader } from '../../src/protocol/answer-eval-settings.ts'

const GOLDEN: { input: string; reference: string; scores: Partial<Record<TextSimilarityMetric, number>> }[] = [
  { input: 'the cat sat on the mat', reference: 'the cat sat on the mat', scores: { fuzzy_match: 1, bleu: 1, gleu: 1, meteor: 0.9976851851851852, rouge_1: 1, rouge_2: 1, rouge_l: 1 } },
  { input: 'the cat is on the mat today', reference: 'the cat sat on the mat',
    scores: { fuzzy_match: 0.8163265306122449, bleu: 6.313993041533344e-78, gleu: 0.4090909090909091, meteor: 0.7934426229508196, rouge_1: 50 / 65, rouge_2: 0.6 / 1.1, rouge_l: 50 / 65 } },
  { input: 'a quick brown fox jumps over the lazy dog', reference: 'the quick brown fox jumped over the lazy dog',
    scores: { fuzzy_match: 0.9176470588235294, bleu: 0.43167001068522526, gleu: 0.5333333333333333, meteor: 0.7687074829931974 } },
  { input: 'Paris is the capital of France', reference: 'The capital of France is Paris',
    scores: { fuzzy_match: 0.6666666666666667, bleu: 6.562069055463047e-78, gleu: 0.4444444444444444, meteor: 0.9375, rouge_1: 1, rouge_2: 0.6, rouge_3: 2 / 4, rouge_l: 4 / 6 } },
  { input: 'hello world', reference: 'goodbye moon', scores: { fuzzy_match: 0.26086956521739135, bleu: 0, gleu: 0, meteor: 0, rouge_1: 0, rouge_l: 0 } },
  { input: 'kitten', reference: 'sitting', scores: { fuzzy_match: 0.6153846153846154, bleu: 0, gleu: 0, meteor: 0 } },
  { input: '', reference: '', scores: { fuzzy_match: 1, bleu: 0, rouge_1: 0 } },
]

t.test('text_similarity metrics score known pairs as the reference implementations do', async (t) => {
  for (const { input, reference, scores } of GOLDEN) {
    for (const [metric, expected] of Object.entries(scores)) {
      const got = textSimilarity(input, reference, metric as TextSimilarityMetric)
      t.ok(Math.abs(got - expected) < 1e-9, `${metric}(${JSON.stringify(input)}, ${JSON.stringify(reference)}) = ${got}, expected ${expected}`)
    }
  }
})

t.test('string_check operations', async (t) => {
  const cases: [string, string, 'eq' | 'ne' | 'like' | 'ilike', number][] = [
    ['Paris', 'Paris', 'eq', 1], ['Paris', 'paris', 'eq', 0], ['Paris', 'paris', 'ne', 1], ['Paris', 'Paris', 'ne', 0],
    ['The answer is Paris.', 'Paris', 'like', 1], ['The answer is paris.', 'Paris', 'like', 0], ['The answer is PARIS.', 'paris', 'ilike', 1], ['Lyon', 'paris', 'ilike', 0],
  ]
  for (const [input, reference, op, expected] of cases) t.equal(stringCheck(input, reference, op), expected, `${op}(${input}, ${reference})`)
})

t.test('valid JSON and JSON Schema checks', async (t) => {
  const schema = { type: 'object', properties: { city: { type: 'string' }, population: { type: 'integer', minimum: 0 } }, required: ['city'], additionalProperties: false }
  const cases: [string, number, number][] = [
    ['{"city": "Paris", "population": 2102650}', 1, 1],
    ['{"city": "Paris"}', 1, 1],
    ['{"city": "Paris", "population": -1}', 1, 0], // minimum
    ['{"city": "Paris", "mayor": "x"}', 1, 0], // additionalProperties
    ['{"population": 3}', 1, 0], // required
    ['{"city": 42}', 1, 0], // type
    ['["Paris"]', 1, 0],
    ['42', 1, 0],
    ['{"city": "Paris",}', 0, 0], // trailing comma: not JSON
    ["{'city': 'Paris'}", 0, 0],
    ['Paris', 0, 0],
    ['', 0, 0],
  ]
  for (const [text, valid, matches] of cases) {
    t.equal(validJson(text), valid, `valid_json(${JSON.stringify(text)}) = ${valid}`)
    t.equal(matchesJsonSchema(text, schema), matches, `json_schema(${JSON.stringify(text)}) = ${matches}`)
  }
})

t.test("the answer evaluation's graders score an answer as the graders API's graders do", async (t) => {
  // [grader, answer, reference, score]: the same implementation as string_check / text_similarity above.
  const cases: [AnswerGrader, string, string, number][] = [
    ['exact_match', 'Word: the.', 'Word: the.', 1],
    ['exact_match', 'Word: the', 'Word: the.', 0],
    ['exact_match', 'word: the.', 'Word: the.', 0],
    ['fuzzy_match', 'kitten', 'sitting', 0.6153846153846154],
    ['bleu', 'a quick brown fox jumps over the lazy dog', 'the quick brown fox jumped over the lazy dog', 0.43167001068522526],
    ['gleu', 'the cat is on the mat today', 'the cat sat on the mat', 0.4090909090909091],
    ['meteor', 'Paris is the capital of France', 'The capital of France is Paris', 0.9375],
    ['rouge_1', 'Paris is the capital of France', 'The capital of France is Paris', 1],
    ['rouge_2', 'Paris is the capital of France', 'The capital of France is Paris', 0.6],
    ['rouge_l', 'the cat is on the mat today', 'the cat sat on the mat', 50 / 65],
    ['valid_json', '{"a": 1}', 'anything', 1],
    ['valid_json', '{a: 1}', '{"a": 1}', 0],
  ]
  for (const [grader, answer, reference, expected] of cases) {
    const got = scoreAnswer(grader, answer, reference)
    t.ok(Math.abs(got - expected) < 1e-9, `${grader}(${JSON.stringify(answer)}, ${JSON.stringify(reference)}) = ${got}, expected ${expected}`)
  }
  const schema = { type: 'object', required: ['answer'] }
  t.equal(scoreAnswer('json_schema', '{"answer": "yes"}', '', schema), 1, 'json_schema: matches')
  t.equal(scoreAnswer('json_schema', '{"reply": "yes"}', '', schema), 0, 'json_schema: does not')
  t.throws(() => scoreAnswer('json_schema', '{}', ''), /needs a schema/, 'json_schema without a schema is a programming error (the API refuses it)')
})

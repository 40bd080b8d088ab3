// POST /v1/completions (legacy, prompt → text): OpenAI's request and response.
import { Type, type Static } from 'typebox'
import { CompletionObject, CompletionUsage, Nullable, NullableNumber, SamplingFields } from './sampling.ts'

export const CompletionRequest = Type.Object(
  {
    ...SamplingFields,
    prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 1 })], { description: 'One prompt (a string, or an array of one string).' }),
    logprobs: Type.Optional(NullableNumber('integer', { minimum: 0, maximum: 5 })),
    echo: Type.Optional(Nullable(Type.Boolean())),
    suffix: Type.Optional(Nullable(Type.String())),
    best_of: Type.Optional(NullableNumber('integer', { minimum: 1, maximum: 1 })),
  },
  { additionalProperties: false },
)
export type CompletionRequest = Static<typeof CompletionRequest>

export const CompletionLogprobs = Type.Object({
  tokens: Type.Array(Type.String()),
  token_logprobs: Type.Array(Type.Number()),
  top_logprobs: Type.Array(Type.Record(Type.String(), Type.Number())),
  text_offset: Type.Array(Type.Integer()),
})
export type CompletionLogprobs = Static<typeof CompletionLogprobs>

export const TextCompletion = CompletionObject(
  'text_completion',
  Type.Object({
    index: Type.Integer(),
    text: Type.String(),
    logprobs: Nullable(CompletionLogprobs),
    finish_reason: Type.Union([Type.Literal('stop'), Type.Literal('length')]),
  }),
  { usage: Type.Optional(CompletionUsage) },
  'TextCompletion',
)
export type TextCompletion = Static<typeof TextCompletion>

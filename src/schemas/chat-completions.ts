// POST /v1/chat/completions: OpenAI's request (the parts Skillet serves) and its response and
// stream chunk objects (../shared/reference/openai/openai-inference.openapi.yaml).
import { Type, type Static } from 'typebox'
import { CompletionObject, CompletionUsage, Nullable, NullableNumber, SamplingFields } from './sampling.ts'

/** A content part; only `text` parts are served (others are refused with a clear 400). */
const ContentPart = Type.Object({ type: Type.String(), text: Type.Optional(Type.String()) })

export const ToolCall = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
})

export const ChatMessage = Type.Object({
  role: Type.Union([Type.Literal('system'), Type.Literal('developer'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool')]),
  content: Type.Optional(Nullable(Type.Union([Type.Array(ContentPart), Type.String()]))),
  name: Type.Optional(Type.String()),
  tool_calls: Type.Optional(Type.Array(ToolCall)),
  tool_call_id: Type.Optional(Type.String()),
  refusal: Type.Optional(Nullable(Type.String())),
})

export const FunctionTool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: Type.Optional(Nullable(Type.Boolean())),
  }),
})

export const ToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String() }) }),
])

export const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('text') }),
  Type.Object({ type: Type.Literal('json_object') }),
  Type.Object({
    type: Type.Literal('json_schema'),
    json_schema: Type.Object({
      name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
      description: Type.Optional(Type.String()),
      schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      strict: Type.Optional(Nullable(Type.Boolean())),
    }),
  }),
])

export const ChatCompletionRequest = Type.Object(
  {
    ...SamplingFields,
    messages: Type.Array(ChatMessage, { minItems: 1 }),
    max_completion_tokens: Type.Optional(NullableNumber('integer', { minimum: 1 })),
    logprobs: Type.Optional(Nullable(Type.Boolean())),
    top_logprobs: Type.Optional(NullableNumber('integer', { minimum: 0, maximum: 20 })),
    response_format: Type.Optional(ResponseFormat),
    tools: Type.Optional(Type.Array(FunctionTool, { maxItems: 128 })),
    tool_choice: Type.Optional(ToolChoice),
    parallel_tool_calls: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(Nullable(Type.Record(Type.String(), Type.String({ maxLength: 512 }), { maxProperties: 16 }))),
    store: Type.Optional(Nullable(Type.Boolean())),
    service_tier: Type.Optional(Nullable(Type.String())),
    reasoning_effort: Type.Optional(Nullable(Type.String())),
    modalities: Type.Optional(Nullable(Type.Array(Type.Literal('text')))),
    verbosity: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
)
export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>
export type ChatMessage = Static<typeof ChatMessage>
export type FunctionTool = Static<typeof FunctionTool>

const TopLogprob = Type.Object({ token: Type.String(), logprob: Type.Number(), bytes: Nullable(Type.Array(Type.Integer())) })
export const TokenLogprob = Type.Object({ ...TopLogprob.properties, top_logprobs: Type.Array(TopLogprob) })
export type TokenLogprob = Static<typeof TokenLogprob>
const ChoiceLogprobs = Nullable(Type.Object({ content: Nullable(Type.Array(TokenLogprob)), refusal: Nullable(Type.Array(TokenLogprob)) }))

export const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Literal('tool_calls')])
export type FinishReason = Static<typeof FinishReason>

export const ChatCompletion = CompletionObject(
  'chat.completion',
  Type.Object({
    index: Type.Integer(),
    message: Type.Object({
      role: Type.Literal('assistant'),
      content: Nullable(Type.String()),
      refusal: Type.Null(),
      tool_calls: Type.Optional(Type.Array(ToolCall)),
    }),
    logprobs: ChoiceLogprobs,
    finish_reason: FinishReason,
  }),
  { usage: CompletionUsage },
  'ChatCompletion',
)
export type ChatCompletion = Static<typeof ChatCompletion>

/** One Server-Sent Event of a streamed chat completion (documented, not serialised by Fastify). */
export const ChatCompletionChunk = CompletionObject(
  'chat.completion.chunk',
  Type.Object({
    index: Type.Integer(),
    delta: Type.Object({
      role: Type.Optional(Type.Literal('assistant')),
      content: Type.Optional(Nullable(Type.String())),
      refusal: Type.Optional(Type.Null()),
      tool_calls: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), id: Type.Optional(Type.String()), type: Type.Optional(Type.Literal('function')), function: Type.Object({ name: Type.Optional(Type.String()), arguments: Type.String() }) }))),
    }),
    logprobs: Type.Optional(ChoiceLogprobs),
    finish_reason: Nullable(FinishReason),
  }),
  { usage: Type.Optional(Nullable(CompletionUsage)) },
  'ChatCompletionChunk',
)
export type ChatCompletionChunk = Static<typeof ChatCompletionChunk>

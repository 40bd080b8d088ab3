// Request fields Chat Completions and Completions share (OpenAI's sampling parameters), and usage.
import { Type, type TSchema } from 'typebox'

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

/**
 * A number or null as one JSON-schema type list: with anyOf, Fastify's type coercion would turn
 * an out-of-range 0 into null and accept it; with a type list 0 stays 0 and fails its bounds.
 */
export const NullableNumber = (kind: 'integer' | 'number', bounds: { minimum?: number; maximum?: number; description?: string } = {}) => Type.Unsafe<number | null>({ type: [kind, 'null'], ...bounds })

export const Stop = Nullable(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 })], { description: 'Up to 4 sequences where generation stops; not included in the output.' }))

export const SamplingFields = {
  model: Type.String({ minLength: 1, description: 'A base model, a fine-tuned model (ft:…) or a checkpoint model (ft:…:ckpt-step-N).' }),
  max_tokens: Type.Optional(NullableNumber('integer', { minimum: 1 })),
  temperature: Type.Optional(NullableNumber('number', { minimum: 0, maximum: 2 })),
  top_p: Type.Optional(NullableNumber('number', { minimum: 0, maximum: 1 })),
  seed: Type.Optional(NullableNumber('integer')),
  stop: Type.Optional(Stop),
  frequency_penalty: Type.Optional(NullableNumber('number', { minimum: -2, maximum: 2 })),
  presence_penalty: Type.Optional(NullableNumber('number', { minimum: -2, maximum: 2 })),
  n: Type.Optional(NullableNumber('integer', { minimum: 1, maximum: 128, description: 'Only 1 is supported.' })),
  stream: Type.Optional(Nullable(Type.Boolean())),
  stream_options: Type.Optional(Nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()), include_obfuscation: Type.Optional(Type.Boolean()) }))),
  user: Type.Optional(Type.String()),
  logit_bias: Type.Optional(Nullable(Type.Record(Type.String(), Type.Number()))),
}

export const CompletionUsage = Type.Object({
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
  total_tokens: Type.Integer(),
})

/** The envelope every completion object shares: {id, object, created, model, system_fingerprint?, choices, ...}. */
export function CompletionObject<O extends string, C extends TSchema, E extends Record<string, TSchema>>(object: O, choice: C, extra: E, id: string) {
  return Type.Object(
    {
      id: Type.String(),
      object: Type.Literal(object),
      created: Type.Integer(),
      model: Type.String(),
      system_fingerprint: Type.Optional(Type.String()),
      choices: Type.Array(choice),
      ...extra,
    },
    { $id: id },
  )
}

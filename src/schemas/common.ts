import { Type, type TSchema } from 'typebox'

/** OpenAI's error envelope. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String(),
      param: Type.Union([Type.String(), Type.Null()]),
      code: Type.Union([Type.String(), Type.Null()]),
    }),
  },
  { $id: 'ErrorResponse' },
)

/** Error responses every authenticated route can give. */
export const errorResponses = {
  400: Type.Ref('ErrorResponse'),
  401: Type.Ref('ErrorResponse'),
  404: Type.Ref('ErrorResponse'),
  429: Type.Ref('ErrorResponse'),
}

/** A cursor-paginated list: {object: 'list', data, first_id, last_id, has_more}. */
export function CursorList<T extends TSchema>(item: T) {
  return Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    first_id: Type.Union([Type.String(), Type.Null()]),
    last_id: Type.Union([Type.String(), Type.Null()]),
    has_more: Type.Boolean(),
  })
}

export const Unixtime = Type.Integer({ description: 'Unix timestamp in seconds.' })

import { Type, type Static } from 'typebox'
import { CursorList, Unixtime } from './common.ts'

/** Purposes a client may upload with (OpenAI's CreateFileRequest.purpose). */
export const UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const
/** Every purpose a stored file can have, including the ones Skillet writes itself. */
export const FILE_PURPOSES = [...UPLOAD_PURPOSES, 'assistants_output', 'batch_output', 'fine-tune-results'] as const

export const OpenAIFile = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('file'),
    bytes: Type.Integer(),
    created_at: Unixtime,
    expires_at: Type.Optional(Unixtime),
    filename: Type.String(),
    purpose: Type.String({ description: `One of ${FILE_PURPOSES.join(', ')}.` }),
    status: Type.Union([Type.Literal('uploaded'), Type.Literal('processed'), Type.Literal('error')]),
    status_details: Type.Optional(Type.String()),
    dataset: Type.Optional(
      Type.Object(
        {
          format: Type.Union([Type.String(), Type.Null()], { description: 'chat, prompt_completion or preference; null when no example was valid.' }),
          examples: Type.Integer({ description: 'Valid examples.' }),
          estimated_tokens: Type.Integer({ description: 'Rough token estimate (characters / 4) of the trainable text.' }),
        },
        { description: 'Skillet extension: what validation found in a fine-tune file (absent until it is validated).' },
      ),
    ),
  },
  { $id: 'OpenAIFile' },
)
export type OpenAIFile = Static<typeof OpenAIFile>

export const ListFilesQuery = Type.Object({
  purpose: Type.Optional(Type.String()),
  limit: Type.Integer({ minimum: 1, maximum: 10000, default: 10000 }),
  order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
  after: Type.Optional(Type.String()),
})

export const ListFilesResponse = CursorList(Type.Ref('OpenAIFile'))

export const FileIdParams = Type.Object({ file_id: Type.String() })

export const DeleteFileResponse = Type.Object({
  id: Type.String(),
  object: Type.Literal('file'),
  deleted: Type.Boolean(),
})

/** The multipart body of POST /v1/files, for the OpenAPI document (parsed by hand as a stream). */
export const CreateFileRequest = Type.Object({
  file: Type.String({ format: 'binary' }),
  purpose: Type.Union(UPLOAD_PURPOSES.map((p) => Type.Literal(p))),
  'expires_after[anchor]': Type.Optional(Type.Literal('created_at')),
  'expires_after[seconds]': Type.Optional(Type.Integer({ minimum: 3600, maximum: 2592000 })),
})

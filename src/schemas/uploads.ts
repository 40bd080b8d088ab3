import { Type } from 'typebox'
import { Unixtime } from './common.ts'

/** Purposes an Upload may declare (OpenAI's CreateUploadRequest.purpose, plus user_data as for files). */
export const UPLOAD_REQUEST_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data'] as const

export const Upload = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('upload'),
    bytes: Type.Integer(),
    created_at: Unixtime,
    filename: Type.String(),
    purpose: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('completed'), Type.Literal('cancelled'), Type.Literal('expired')]),
    expires_at: Unixtime,
    file: Type.Union([Type.Ref('OpenAIFile'), Type.Null()]),
  },
  { $id: 'Upload' },
)

export const UploadPart = Type.Object({
  id: Type.String(),
  object: Type.Literal('upload.part'),
  created_at: Unixtime,
  upload_id: Type.String(),
})

export const CreateUploadRequest = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 512 }),
    purpose: Type.Union(UPLOAD_REQUEST_PURPOSES.map((p) => Type.Literal(p))),
    bytes: Type.Integer({ minimum: 1 }),
    mime_type: Type.String({ minLength: 1 }),
    expires_after: Type.Optional(
      Type.Object({ anchor: Type.Literal('created_at'), seconds: Type.Integer({ minimum: 3600, maximum: 2592000 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
)

export const CompleteUploadRequest = Type.Object(
  {
    part_ids: Type.Array(Type.String(), { minItems: 1 }),
    md5: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{32}$' })),
  },
  { additionalProperties: false },
)

export const UploadIdParams = Type.Object({ upload_id: Type.String() })

/** The multipart body of POST /v1/uploads/{id}/parts, for the OpenAPI document (parsed as a stream). */
export const AddUploadPartRequest = Type.Object({ data: Type.String({ format: 'binary' }) })

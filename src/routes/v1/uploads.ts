// /v1/uploads — OpenAI's Uploads API: create, add parts, complete (→ a File), cancel.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { abortOnDisconnect } from '../../lib/abort-on-disconnect.ts'
import { invalidRequest, unsupportedMediaType } from '../../lib/errors.ts'
import { errorResponses } from '../../schemas/common.ts'
import { AddUploadPartRequest, CompleteUploadRequest, CreateUploadRequest, UploadIdParams, UploadPart } from '../../schemas/uploads.ts'
import * as uploadsService from '../../services/uploads.ts'
import type { AppServices } from '../../services/app-services.ts'

const uploadsRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { config } = services
  const deps: uploadsService.UploadsDeps = {
    ...services.files,
    maxUploadBytes: config.maxUploadBytes,
    maxPartBytes: config.maxUploadPartBytes,
    ttlSeconds: config.uploadTtlSeconds,
    createFileRecord: (row) => services.createFileRecord(row),
  }
  const uploadResponses = { 200: Type.Ref('Upload'), ...errorResponses }

  app.post(
    '/uploads',
    { schema: { summary: 'Create an upload', tags: ['Uploads'], body: CreateUploadRequest, response: uploadResponses } },
    async (request) => uploadsService.toUpload(await uploadsService.createUpload(deps, request.principal.projectId, request.body), null),
  )

  app.post(
    '/uploads/:upload_id/parts',
    {
      schema: {
        summary: 'Add a part to an upload',
        tags: ['Uploads'],
        consumes: ['multipart/form-data'],
        params: UploadIdParams,
        body: AddUploadPartRequest,
        response: { 200: UploadPart, ...errorResponses, 413: Type.Ref('ErrorResponse'), 415: Type.Ref('ErrorResponse') },
      },
      // The multipart body is parsed as a stream below; the schema above only documents it.
      validatorCompiler: () => () => true,
    },
    async (request) => {
      if (!request.isMultipart()) throw unsupportedMediaType('POST /v1/uploads/{upload_id}/parts expects multipart/form-data with the field data.')
      const signal = abortOnDisconnect(request)
      let part: Awaited<ReturnType<typeof uploadsService.addPart>> | null = null
      for await (const field of request.parts()) {
        if (field.type !== 'file' || field.fieldname !== 'data' || part) {
          if (field.type === 'file') field.file.resume()
          continue
        }
        part = await uploadsService.addPart(deps, request.principal.projectId, request.params.upload_id, field.file, signal)
      }
      if (!part) throw invalidRequest("Missing required parameter: 'data'.", 'data')
      return part
    },
  )

  app.post(
    '/uploads/:upload_id/complete',
    { schema: { summary: 'Complete an upload', tags: ['Uploads'], params: UploadIdParams, body: CompleteUploadRequest, response: uploadResponses } },
    async (request) => uploadsService.completeUpload(deps, request.principal.projectId, request.params.upload_id, request.body),
  )

  app.post(
    '/uploads/:upload_id/cancel',
    { schema: { summary: 'Cancel an upload', tags: ['Uploads'], params: UploadIdParams, response: uploadResponses } },
    async (request) => uploadsService.cancelUpload(deps, request.principal.projectId, request.params.upload_id),
  )
}

export default uploadsRoutes

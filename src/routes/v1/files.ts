// /v1/files — OpenAI's Files API. Handlers are thin: parse, call the service, shape the answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { abortOnDisconnect } from '../../lib/abort-on-disconnect.ts'
import { invalidRequest, unsupportedMediaType } from '../../lib/errors.ts'
import { refuseNul, storableText } from '../../lib/nul-character.ts'
import { errorResponses } from '../../schemas/common.ts'
import { CreateFileRequest, DeleteFileResponse, FileIdParams, ListFilesQuery, ListFilesResponse, UPLOAD_PURPOSES } from '../../schemas/files.ts'
import * as filesService from '../../services/files.ts'
import type { AppServices } from '../../services/app-services.ts'

const filesRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { files: deps, config } = services

  app.post(
    '/files',
    {
      schema: {
        summary: 'Upload a file',
        tags: ['Files'],
        consumes: ['multipart/form-data'],
        body: CreateFileRequest,
        response: { 200: Type.Ref('OpenAIFile'), ...errorResponses, 413: Type.Ref('ErrorResponse'), 415: Type.Ref('ErrorResponse') },
      },
      // The multipart body is parsed as a stream below; the schema above only documents it.
      validatorCompiler: () => () => true,
    },
    async (request) => {
      if (!request.isMultipart()) throw unsupportedMediaType('POST /v1/files expects multipart/form-data with fields file and purpose.')
      const signal = abortOnDisconnect(request)
      const fields: Record<string, string> = {}
      let stored: { fileId: string; blobKey: string; bytes: number; filename: string } | null = null
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || stored) {
              part.file.resume()
              throw invalidRequest(`Unexpected file field '${storableText(part.fieldname)}': send exactly one file, in the field 'file'.`, storableText(part.fieldname))
            }
            try {
              refuseNul(part.filename, 'filename')
            } catch (err) {
              part.file.resume()
              throw err
            }
            const saved = await filesService.storeFileBytes(deps, request.principal.projectId, part.file, config.maxFileBytes, signal)
            stored = { ...saved, filename: part.filename || 'file' }
          } else {
            refuseNul(part.fieldname, 'field name')
            refuseNul(String(part.value), part.fieldname)
            fields[part.fieldname] = String(part.value)
          }
        }
        const purpose = fields.purpose
        if (!purpose) throw invalidRequest("Missing required parameter: 'purpose'.", 'purpose')
        if (!(UPLOAD_PURPOSES as readonly string[]).includes(purpose)) {
          throw invalidRequest(`Invalid value for 'purpose': '${purpose}'. Supported values are: ${UPLOAD_PURPOSES.join(', ')}.`, 'purpose')
        }
        if (!stored) throw invalidRequest("Missing required parameter: 'file'.", 'file')
        const expiresAt = parseExpiresAfter(fields['expires_after[anchor]'], fields['expires_after[seconds]'])
        const row = await services.createFileRecord({
          id: stored.fileId,
          projectId: request.principal.projectId,
          filename: stored.filename,
          purpose,
          bytes: stored.bytes,
          blobKey: stored.blobKey,
          expiresAt,
        })
        return filesService.toOpenAIFile(row)
      } catch (err) {
        if (stored) await services.discardBlob(stored.blobKey)
        throw err
      }
    },
  )

  app.get(
    '/files',
    { schema: { summary: 'List files', tags: ['Files'], querystring: ListFilesQuery, response: { 200: ListFilesResponse, ...errorResponses } } },
    async (request) => {
      const { data, hasMore } = await filesService.listFiles(deps, request.principal.projectId, request.query)
      return {
        object: 'list' as const,
        data: data.map(filesService.toOpenAIFile),
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: hasMore,
      }
    },
  )

  app.get(
    '/files/:file_id',
    { schema: { summary: 'Retrieve a file', tags: ['Files'], params: FileIdParams, response: { 200: Type.Ref('OpenAIFile'), ...errorResponses } } },
    async (request) => filesService.toOpenAIFile(await filesService.getFile(deps, request.principal.projectId, request.params.file_id)),
  )

  app.get(
    '/files/:file_id/content',
    {
      schema: {
        summary: 'Retrieve file content',
        tags: ['Files'],
        params: FileIdParams,
        response: { 200: Type.String({ format: 'binary' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { row, body } = await filesService.openFileContent(deps, request.principal.projectId, request.params.file_id)
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(row.bytes))
        .header('content-disposition', `attachment; filename="${row.filename.replace(/["\\\r\n]/g, '_')}"`)
        .send(body)
    },
  )

  app.delete(
    '/files/:file_id',
    { schema: { summary: 'Delete a file', tags: ['Files'], params: FileIdParams, response: { 200: DeleteFileResponse, ...errorResponses } } },
    async (request) => {
      await filesService.deleteFile(deps, request.principal.projectId, request.params.file_id)
      return { id: request.params.file_id, object: 'file' as const, deleted: true }
    },
  )
}

/** expires_after[anchor]=created_at and expires_after[seconds] in [3600, 2592000] → an absolute unix time. */
function parseExpiresAfter(anchor: string | undefined, seconds: string | undefined): number | null {
  if (anchor === undefined && seconds === undefined) return null
  if (anchor !== 'created_at') throw invalidRequest("Invalid value for 'expires_after.anchor': the only supported anchor is 'created_at'.", 'expires_after.anchor')
  const n = Number(seconds)
  if (seconds === undefined || !/^\d+$/.test(seconds) || n < 3600 || n > 2592000) {
    throw invalidRequest("Invalid value for 'expires_after.seconds': must be an integer between 3600 (1 hour) and 2592000 (30 days).", 'expires_after.seconds')
  }
  return Math.floor(Date.now() / 1000) + n
}

export default filesRoutes

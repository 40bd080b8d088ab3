// POST /v1/completions — OpenAI's legacy Completions (prompt → text), for prompt/completion fine-tunes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomBytes } from 'node:crypto'
import { abortWhenResponseCloses } from '../../lib/abort-on-disconnect.ts'
import { invalidRequest } from '../../lib/errors.ts'
import { unixNow } from '../../lib/ids.ts'
import { collectTextCompletion, textCompletionChunks } from '../../inference/completion-objects.ts'
import type { InferenceDeps } from '../../inference/inference-service.ts'
import { errorResponses } from '../../schemas/common.ts'
import { CompletionRequest, TextCompletion } from '../../schemas/completions.ts'
import { onlyOneChoice, sendSse } from './inference-stream.ts'

const completionsRoutes: FastifyPluginAsyncTypebox<{ deps: InferenceDeps }> = async (app, { deps }) => {
  app.post(
    '/completions',
    {
      schema: {
        summary: 'Create a completion (stream: true answers with Server-Sent Events)',
        tags: ['Completions'],
        body: CompletionRequest,
        response: { 200: TextCompletion, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body
      onlyOneChoice(body)
      if (body.echo) throw invalidRequest('echo is not supported.', 'echo', 'invalid_value')
      if (body.suffix) throw invalidRequest('suffix (insertion) is not supported.', 'suffix', 'invalid_value')
      const served = await deps.resolve(request.principal.projectId, body.model)
      const generation = await deps.engine.complete(served, body, abortWhenResponseCloses(reply))
      const who = { id: `cmpl-${randomBytes(18).toString('base64url')}`, created: unixNow(), model: body.model }
      const withLogprobs = body.logprobs !== undefined && body.logprobs !== null
      if (!body.stream) return collectTextCompletion(who, generation, withLogprobs)
      await sendSse(reply, textCompletionChunks(who, generation, { withLogprobs, includeUsage: body.stream_options?.include_usage === true }))
      return reply
    },
  )
}

export default completionsRoutes

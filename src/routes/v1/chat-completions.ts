// POST /v1/chat/completions — OpenAI's Chat Completions on base, fine-tuned and checkpoint models.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { randomBytes } from 'node:crypto'
import { abortWhenResponseCloses } from '../../lib/abort-on-disconnect.ts'
import { unixNow } from '../../lib/ids.ts'
import { chatCompletionChunks, collectChatCompletion } from '../../inference/chat-completion-objects.ts'
import type { InferenceDeps } from '../../inference/inference-service.ts'
import { ChatCompletion, ChatCompletionRequest } from '../../schemas/chat-completions.ts'
import { errorResponses } from '../../schemas/common.ts'
import { onlyOneChoice, sendSse } from './inference-stream.ts'

const chatCompletionsRoutes: FastifyPluginAsyncTypebox<{ deps: InferenceDeps }> = async (app, { deps }) => {
  app.post(
    '/chat/completions',
    {
      schema: {
        summary: 'Create a chat completion (stream: true answers with Server-Sent Events of chat.completion.chunk objects)',
        tags: ['Chat'],
        body: ChatCompletionRequest,
        response: { 200: ChatCompletion, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body
      onlyOneChoice(body)
      const served = await deps.resolve(request.principal.projectId, body.model)
      const generation = await deps.engine.chat(served, body, abortWhenResponseCloses(reply))
      const who = { id: `chatcmpl-${randomBytes(18).toString('base64url')}`, created: unixNow(), model: body.model }
      const withLogprobs = body.logprobs === true
      if (!body.stream) return collectChatCompletion(who, generation, withLogprobs)
      await sendSse(reply, chatCompletionChunks(who, generation, { withLogprobs, includeUsage: body.stream_options?.include_usage === true }))
      return reply
    },
  )
}

export default chatCompletionsRoutes

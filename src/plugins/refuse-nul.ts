// One place refuses the NUL character in client input: path parameters, the query string (keys
// included, e.g. `metadata[k]`) and JSON bodies (keys and values), with a 400 naming the parameter,
// before any of it reaches Postgres (which cannot store U+0000). Multipart fields are streamed by
// their routes, which call refuseNul on each field and filename.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { refuseNul } from '../lib/nul-character.ts'

export default fp(
  async function refuseNulPlugin(app: FastifyInstance) {
    app.addHook('preValidation', async (request) => {
      refuseNul(request.params, '')
      refuseNul(request.query, '')
      refuseNul(request.body, '')
    })
  },
  { name: 'skillet-refuse-nul' },
)

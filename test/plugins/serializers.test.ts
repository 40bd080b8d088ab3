// The response serializer compiler shares one serializer among equal schemas (the ErrorResponse every
// route gives for 400/401/404/429) and still serializes as fast-json-stringify does.
import t from 'tap'
import { Type } from 'typebox'
import { buildSerializers } from '../../src/plugins/serializers.ts'
import { ErrorResponse } from '../../src/schemas/common.ts'

const external = { ErrorResponse }

t.test('equal schemas share one serializer; other schemas get their own', async (t) => {
  const compile = buildSerializers(external, {})
  const first = compile({ schema: Type.Ref('ErrorResponse'), method: 'GET', url: '/v1/files', httpStatus: '404' })
  const second = compile({ schema: Type.Ref('ErrorResponse'), method: 'POST', url: '/v1/fine_tuning/jobs', httpStatus: '400' })
  t.equal(first, second, 'one serializer for the same schema on two routes and statuses')
  t.equal(buildSerializers(external, {})({ schema: Type.Ref('ErrorResponse') }), first, 'and for another context with the same external schemas')
  const other = compile({ schema: Type.Object({ id: Type.String() }), httpStatus: '200' })
  t.not(other, first, 'a different schema: a different serializer')
  t.equal(other({ id: 'x', extra: 1 }), '{"id":"x"}', 'which serializes by its own schema')
})

t.test('a shared serializer writes what the schema says, unions included', async (t) => {
  const serialize = buildSerializers(external, {})({ schema: Type.Ref('ErrorResponse') })
  const withNulls = { error: { message: 'No such file', type: 'invalid_request_error', param: null, code: null } }
  t.same(JSON.parse(serialize(withNulls)), withNulls)
  const withStrings = { error: { message: 'Bad', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } }
  t.same(JSON.parse(serialize(withStrings)), withStrings)
})

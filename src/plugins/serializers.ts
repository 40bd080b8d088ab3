// Response serialization: Fastify's own fast-json-stringify compiler, with one serializer per
// distinct schema instead of one per route and status code. Most routes answer 400/401/404/429 with
// the same ErrorResponse, and fast-json-stringify gives every serializer of a schema with a union
// (`param: string | null`) its own Ajv instance: ~300 of them at start, ~30 MB of the API's idle
// heap (npm run bench:rss). A serializer is a pure function of its schema, the schemas it may
// reference and the serializer options, so equal ones are shared.
import { createRequire } from 'node:module'

type Route = { schema?: unknown; method?: string; url?: string; httpStatus?: string; contentType?: string }
type Serialize = (data: unknown) => string
type Compiler = (route: Route) => Serialize
type Builder = (externalSchemas: unknown, serializerOpts?: unknown) => Compiler

// The compiler Fastify itself would use (resolved from fastify, so the versions always match).
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'))
const fastifyDefault = (requireFromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => Builder }).SerializerSelector()

/** Compilers by their external schemas and options; each keeps its serializers by schema. */
const pools = new Map<string, { compile: Compiler; serializers: Map<string, Serialize> }>()

/** Fastify's `schemaController.compilersFactory.buildSerializer`. */
export const buildSerializers: Builder = (externalSchemas, serializerOpts) => {
  const poolKey = JSON.stringify([externalSchemas, serializerOpts ?? null])
  let pool = pools.get(poolKey)
  if (!pool) {
    pool = { compile: fastifyDefault(externalSchemas, serializerOpts), serializers: new Map() }
    pools.set(poolKey, pool)
  }
  const { compile, serializers } = pool
  return (route) => {
    const key = JSON.stringify(route.schema)
    let serialize = serializers.get(key)
    if (!serialize) {
      serialize = compile(route)
      serializers.set(key, serialize)
    }
    return serialize
  }
}

// Request validation: Fastify's Ajv compiler, twice. Query strings, path parameters and headers
// arrive as text and are coerced to the schema's types (`limit=20` → 20, as the openai SDK sends it);
// JSON bodies are not: `"n_epochs": "3"` is refused with a 400 naming the parameter, as OpenAI does.
import AjvCompiler from '@fastify/ajv-compiler'

type Options = Parameters<AjvCompiler.BuildCompilerFromPool>[1] & { customOptions?: Record<string, unknown> }
type Route = { httpPart?: string; schema: unknown }

const coercing = AjvCompiler()
const strict = AjvCompiler()

/** Fastify's `schemaController.compilersFactory.buildValidator`: one compiler per kind of input. */
export const buildValidators: AjvCompiler.BuildCompilerFromPool = (externalSchemas, options) => {
  const opts = (options ?? {}) as Options
  const forText = coercing(externalSchemas, opts) as unknown as (route: Route) => unknown
  const forBodies = strict(externalSchemas, { ...opts, customOptions: { ...opts.customOptions, coerceTypes: false } } as Options) as unknown as (route: Route) => unknown
  return ((route: Route) => (route.httpPart === 'body' ? forBodies(route) : forText(route))) as unknown as ReturnType<AjvCompiler.BuildCompilerFromPool>
}

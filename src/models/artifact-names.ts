// What a model artifact may be called (docs/model-artifacts.md) and what it is served as.
// A name is a relative path with at most one folder: "adapter/adapter_config.json",
// "model/model.safetensors", "model-f16.gguf", "Modelfile".

const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}'
const NAME = new RegExp(`^${SEGMENT}(?:/${SEGMENT})?$`)

/** `…/artifacts/archive` is the whole model as a .tar: no artifact may take that name. */
export const ARCHIVE = 'archive'

export function isArtifactName(name: string): boolean {
  return NAME.test(name) && name !== ARCHIVE
}

/** The model's GGUF: a top-level name ending in .gguf. */
export function isGgufName(name: string): boolean {
  return !name.includes('/') && name.endsWith('.gguf')
}

const TYPES: [RegExp, string][] = [
  [/\.json$/, 'application/json'],
  [/\.jinja$/, 'text/plain; charset=utf-8'],
  [/\.txt$/, 'text/plain; charset=utf-8'],
  [/(^|\/)Modelfile$/, 'text/plain; charset=utf-8'],
  [/\.csv$/, 'text/csv'],
]

/** The Content-Type a download of `name` carries; binary formats (safetensors, GGUF) are octet streams. */
export function artifactContentType(name: string): string {
  return TYPES.find(([pattern]) => pattern.test(name))?.[1] ?? 'application/octet-stream'
}

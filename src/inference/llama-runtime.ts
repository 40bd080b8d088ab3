// node-llama-cpp, loaded on the first inference request only: the API process does not pay
// for llama.cpp (its native addon and threads) until a model is actually used. CPU build only
// (the lean install has no GPU builds; NODE_LLAMA_CPP_SKIP_DOWNLOAD keeps it from fetching any).
import type { Llama } from 'node-llama-cpp'
import type { Logger } from 'pino'

let llama: Promise<Llama> | undefined

export type LlamaModule = typeof import('node-llama-cpp')
let module: Promise<LlamaModule> | undefined

/** Whether node-llama-cpp has been imported in this process (it is not until a model is used). */
export function llamaLoaded(): boolean {
  return module !== undefined
}

export function llamaModule(): Promise<LlamaModule> {
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= 'true'
  module ??= import('node-llama-cpp')
  return module
}

export function getLlamaRuntime(log: Logger): Promise<Llama> {
  llama ??= llamaModule().then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => log.warn({ level }, `llama.cpp: ${message.trimEnd()}`),
    }),
  )
  return llama
}

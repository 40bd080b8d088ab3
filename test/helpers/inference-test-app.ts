// A test API serving the generated demo base model (llama.cpp, embedded engine), plus helpers
// that read a raw SSE stream and validate every body against OpenAI's inference spec.
import type { Test } from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { ensureDemoModel } from '../../src/models/demo-model.ts'
import { startTestApp, type TestApp } from './test-app.ts'

export { DEMO_MODEL_ID }

export async function startInferenceApp(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
  const ctx = await startTestApp(t, { env: { SKILLET_RATE_LIMIT_PER_MINUTE: '1000000', SKILLET_INFERENCE_THREADS: '1', ...env } })
  const demo = ctx.config.jobs.baseModels[DEMO_MODEL_ID]
  if (demo?.kind === 'dir') await ensureDemoModel(demo.path) // what the server does on first start
  return ctx
}

/** POSTs a JSON body with the app's key; the raw Response. */
export function post(ctx: TestApp, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${ctx.baseURL}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ctx.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body), ...init })
}

/** The `data:` payloads of an SSE body, parsed (the final `[DONE]` kept as the string). */
export function sseEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
      return data === '[DONE]' ? data : JSON.parse(data)
    })
}

// The first examples of a JSONL dataset as chat turns, read from the start of the file only.
export interface Turn {
  role: string
  text: string
}

export interface PreviewExample {
  turns: Turn[]
  /** For preference (DPO) data: the preferred and the other answer. */
  preferred?: string
  nonPreferred?: string
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && 'text' in p ? String((p as { text: unknown }).text) : '')).join('')
  if (content == null) return ''
  return JSON.stringify(content)
}

function turnsOf(messages: unknown): Turn[] {
  if (!Array.isArray(messages)) return []
  return messages.map((m: Record<string, unknown>) => {
    const calls = Array.isArray(m.tool_calls) ? m.tool_calls.map((c: { function?: { name?: string; arguments?: string } }) => `${c.function?.name ?? 'tool'}(${c.function?.arguments ?? ''})`).join('\n') : ''
    return { role: String(m.role ?? '?'), text: [textOf(m.content), calls].filter(Boolean).join('\n') }
  })
}

/** One example line as turns; null for a line that is not a JSON object. */
export function previewExample(line: string): PreviewExample | null {
  let v: Record<string, unknown>
  try {
    v = JSON.parse(line) as Record<string, unknown>
  } catch {
    return null
  }
  if (!v || typeof v !== 'object') return null
  if (Array.isArray(v.messages)) return { turns: turnsOf(v.messages) }
  if ('prompt' in v) return { turns: [{ role: 'user', text: textOf(v.prompt) }, { role: 'assistant', text: textOf(v.completion) }] }
  if (v.input && typeof v.input === 'object') {
    const pref = v.preferred_output ?? v.preferred_completion
    const non = v.non_preferred_output ?? v.non_preferred_completion
    const answer = (x: unknown) => (Array.isArray(x) ? turnsOf(x).map((t) => t.text).join('\n') : textOf(x))
    return { turns: turnsOf((v.input as { messages?: unknown }).messages), preferred: answer(pref), nonPreferred: answer(non) }
  }
  return null
}

/** Reads at most `maxBytes` from the response body and returns its first `n` complete lines. */
export async function firstLines(res: Response, n: number, maxBytes = 256 * 1024): Promise<string[]> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let read = 0
  while (read < maxBytes) {
    const { done, value } = await reader.read()
    if (done) break
    read += value.byteLength
    text += decoder.decode(value, { stream: true })
    if (text.split('\n').length > n) break
  }
  await reader.cancel().catch(() => {})
  return text.split('\n').filter((l) => l.trim() !== '').slice(0, n)
}

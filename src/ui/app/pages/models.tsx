// Models: base and fine-tuned (and checkpoint) models, their artifacts, delete; and a playground
// that sends one prompt to two models side by side through /v1/chat/completions, streamed.
import OpenAI from 'openai'
import type { Model } from 'openai/resources/models'
import { useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { errorMessage } from '../api/client.ts'
import { Artifacts } from '../components/artifacts.tsx'
import { Empty, ErrorNote, Loading, PageHeader, TableHead } from '../components/bits.tsx'
import { Time } from '../components/time.tsx'
import { isMissingEndpoint } from '../lib/playground.ts'
import { href } from '../lib/route.ts'
import { usePoll } from '../lib/use-poll.ts'
import { useAction } from '../lib/use-action.ts'

const isTuned = (m: Model) => m.id.startsWith('ft:')
const isCheckpoint = (m: Model) => /:ckpt-step-\d+$/.test(m.id)

export function ModelsPage({ session }: { session: Session }) {
  const models = usePoll(async () => (await session.client.models.list()).data, null)
  const [selected, setSelected] = useState<string | null>(null)
  const action = useAction()
  if (!models.data) return models.error ? <ErrorNote message={models.error} /> : <Loading />
  const base = models.data.filter((m) => !isTuned(m))
  const tuned = models.data.filter(isTuned)
  const remove = (id: string) =>
    confirm(`Delete ${id}? Its artifacts are deleted too.`) &&
    action.run(async () => {
      await session.client.models.delete(id)
      if (selected === id) setSelected(null)
      models.reload()
    })
  return (
    <>
      <PageHeader title="Models" />
      <ErrorNote message={action.error} />
      <div class="columns">
        <section class="card" aria-labelledby="base-title">
          <h2 id="base-title">Base models</h2>
          <ul class="plain">
            {base.map((m) => (
              <li key={m.id} class="mono">
                {m.id}
              </li>
            ))}
          </ul>
        </section>
        <section class="card" aria-labelledby="tuned-title">
          <h2 id="tuned-title">Fine-tuned models</h2>
          {tuned.length === 0 ? (
            <Empty title="No fine-tuned model yet">
              A job that succeeds adds one here. <a href={href('new-job')}>Start a job</a>.
            </Empty>
          ) : (
            <table class="table" aria-label="Fine-tuned models">
              <TableHead columns={['Model', 'Created', '']} />
              <tbody>
                {tuned.map((m) => (
                  <tr key={m.id} class={selected === m.id ? 'selected' : ''}>
                    <td>
                      <button type="button" class="link-button mono" aria-pressed={selected === m.id} onClick={() => setSelected(m.id)}>
                        {m.id}
                      </button>
                      {isCheckpoint(m) && <span class="tag">checkpoint</span>}
                    </td>
                    <td>
                      <Time at={m.created} />
                    </td>
                    <td>
                      {!isCheckpoint(m) && (
                        <button type="button" class="danger small-button" onClick={() => void remove(m.id)} aria-label={`Delete ${m.id}`}>
                          Delete
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {selected && (
            <>
              <h3>Artifacts of {selected}</h3>
              <Artifacts key={selected} session={session} model={selected} />
            </>
          )}
        </section>
      </div>
      <Playground session={session} base={base} tuned={tuned} />
    </>
  )
}

interface Answer {
  text: string
  error: string | null
  done: boolean
}

function Playground({ session, base, tuned }: { session: Session; base: Model[]; tuned: Model[] }) {
  const [prompt, setPrompt] = useState('')
  const [left, setLeft] = useState(base[0]?.id ?? '')
  const [right, setRight] = useState(tuned[0]?.id ?? '')
  const [answers, setAnswers] = useState<Record<'left' | 'right', Answer> | null>(null)
  const [missing, setMissing] = useState(false)
  const send = async (e: Event) => {
    e.preventDefault()
    const start: Answer = { text: '', error: null, done: false }
    setAnswers({ left: { ...start }, right: { ...start } })
    const ask = async (side: 'left' | 'right', model: string) => {
      const update = (patch: Partial<Answer>) => setAnswers((a) => (a ? { ...a, [side]: { ...a[side], ...patch } } : a))
      try {
        const stream = await session.client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], stream: true, max_tokens: 256 })
        let text = ''
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta?.content ?? ''
          update({ text })
        }
        update({ done: true })
      } catch (err) {
        const message = errorMessage(err)
        if (isMissingEndpoint(err instanceof OpenAI.APIError ? err.status : undefined, message)) setMissing(true)
        update({ error: message, done: true })
      }
    }
    await Promise.all([ask('left', left), ask('right', right)])
  }
  const all = [...base, ...tuned]
  return (
    <section class="card" aria-labelledby="playground-title">
      <h2 id="playground-title">Playground</h2>
      {missing ? (
        <p class="notice" role="status">
          This server has no <code>/v1/chat/completions</code> endpoint (it answered 404), so the playground cannot run models here yet. Download a GGUF artifact to try a model
          in llama.cpp, Ollama or LM Studio.
        </p>
      ) : (
        <p class="muted small">The same prompt goes to both models; the answers stream in side by side.</p>
      )}
      <form onSubmit={send} class="playground-form">
        <div class="columns">
          {(
            [
              ['left', 'Model A', left, setLeft],
              ['right', 'Model B', right, setRight],
            ] as const
          ).map(([side, label, value, setValue]) => (
            <div class="field" key={side}>
              <label for={`pg-${side}`}>{label}</label>
              <select id={`pg-${side}`} value={value} onChange={(e) => setValue(e.currentTarget.value)}>
                {all.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id}
                  </option>
                ))}
              </select>
            </div>
          ))}
        </div>
        <label for="pg-prompt">Prompt</label>
        <textarea id="pg-prompt" rows={3} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />
        <button type="submit" class="primary" disabled={!prompt.trim() || !left || !right}>
          Send to both
        </button>
      </form>
      {answers && (
        <div class="columns answers">
          {(['left', 'right'] as const).map((side) => (
            <div key={side} class="answer" aria-live="polite" aria-label={`Answer of ${side === 'left' ? left : right}`}>
              <p class="muted small mono">{side === 'left' ? left : right}</p>
              {answers[side].error ? <ErrorNote message={answers[side].error} /> : <p class="answer-text">{answers[side].text || (answers[side].done ? '(empty answer)' : '…')}</p>}
            </div>
          ))}
        </div>
      )}
    </section>
  )
}

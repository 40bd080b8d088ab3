// New job: base model, files, method, hyperparameters ("auto" explained), suffix, seed; a dry run
// first (tokens, steps, estimated time, resolved hyperparameters), then start.
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs'
import { useState } from 'preact/hooks'
import type { Session } from '../app.tsx'
import { errorMessage } from '../api/client.ts'
import { Empty, ErrorNote, Loading, PageHeader } from '../components/bits.tsx'
import { count, duration } from '../lib/format.ts'
import { EMPTY_FORM, formProblems, jobRequest, type JobForm } from '../lib/job-request.ts'
import { href, navigate } from '../lib/route.ts'
import { usePoll } from '../lib/use-poll.ts'
import type { DatasetFile } from './files.tsx'
import { resolveHyperparameters } from '../../../protocol/auto-hyperparameters.ts'

export type SkilletJob = FineTuningJob & {
  estimate?: { trained_tokens: number; total_steps: number; estimated_seconds: number } | null
  dry_run?: boolean
}

const TERMINAL = ['succeeded', 'failed', 'cancelled']

async function waitForJob(session: Session, id: string): Promise<SkilletJob> {
  for (;;) {
    const job = (await session.client.fineTuning.jobs.retrieve(id)) as SkilletJob
    if (TERMINAL.includes(job.status) || job.status === 'queued' || job.status === 'running') return job
    await new Promise((r) => setTimeout(r, 400))
  }
}

const HELP: Record<string, string> = {
  nEpochs: 'Passes over the training data. auto: about 3, more for tiny datasets, fewer for huge ones.',
  batchSize: 'Examples per optimizer step. auto: about 0.2 % of the examples (1 to 256), halved for long examples.',
  learningRateMultiplier: 'Scales the learning rate estimated for the model. auto: 0.05 below batch 8, 0.1 to 31, 0.2 from 32.',
  beta: 'DPO only: how strongly the model is kept near the reference. auto: the default.',
}

/** What `auto` comes to for this dataset, by the server's own rule (src/protocol/auto-hyperparameters.ts). */
function autoValues(file: DatasetFile | undefined): Partial<Record<keyof JobForm, string>> {
  if (!file?.dataset) return {}
  const r = resolveHyperparameters({ nEpochs: 'auto', batchSize: 'auto', learningRateMultiplier: 'auto' }, { examples: file.dataset.examples, tokens: file.dataset.estimated_tokens })
  return { nEpochs: String(r.nEpochs), batchSize: String(r.batchSize), learningRateMultiplier: String(r.learningRateMultiplier) }
}

function Field({ id, label, help, error, children }: { id: string; label: string; help?: string; error?: string; children: preact.ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {help && (
        <p class="muted small" id={`${id}-help`}>
          {help}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  )
}

export function NewJobPage({ session }: { session: Session }) {
  const [form, setForm] = useState<JobForm>(EMPTY_FORM)
  const [dryRun, setDryRun] = useState<{ form: JobForm; job: SkilletJob } | null>(null)
  const [busy, setBusy] = useState<'dry' | 'start' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const models = usePoll(async () => (await session.client.models.list()).data.filter((m) => !m.id.startsWith('ft:')), null)
  const files = usePoll(async () => ((await session.client.files.list({ purpose: 'fine-tune' })).data as DatasetFile[]).filter((f) => f.status === 'processed'), null)

  const set = (patch: Partial<JobForm>) => setForm((f) => ({ ...f, ...patch }))
  if (models.data && !form.model && models.data[0]) set({ model: models.data[0].id })
  const problems = formProblems(form)
  const valid = Object.keys(problems).length === 0
  const dryRunCurrent = dryRun !== null && JSON.stringify(dryRun.form) === JSON.stringify(form) && dryRun.job.status === 'succeeded'

  const runDry = async () => {
    setBusy('dry')
    setError(null)
    try {
      const created = await session.client.fineTuning.jobs.create(jobRequest(form, true) as never)
      const job = await waitForJob(session, created.id)
      if (job.status !== 'succeeded') setError(job.error?.message ?? `The dry run ended ${job.status}.`)
      setDryRun({ form, job })
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(null)
    }
  }
  const start = async () => {
    setBusy('start')
    setError(null)
    try {
      const job = await session.client.fineTuning.jobs.create(jobRequest(form, false) as never)
      navigate('jobs', job.id)
    } catch (err) {
      setError(errorMessage(err))
      setBusy(null)
    }
  }

  if (!models.data || !files.data) return <Loading />
  if (files.data.length === 0) {
    return (
      <>
        <PageHeader title="New fine-tuning job" />
        <Empty title="No processed dataset yet">
          Upload a training file on the <a href={href('files')}>Datasets</a> page first; once it is validated it can be chosen here.
        </Empty>
      </>
    )
  }
  const auto = autoValues(files.data.find((f) => f.id === form.trainingFile))
  const hyper = (dryRun?.job.method as { [k: string]: { hyperparameters?: Record<string, unknown> } } | undefined)?.[dryRun?.job.method?.type ?? '']?.hyperparameters
  return (
    <>
      <PageHeader title="New fine-tuning job" />
      <form class="card form-grid" onSubmit={(e) => (e.preventDefault(), void runDry())}>
        <Field id="model" label="Base model" error={problems.model}>
          <select id="model" value={form.model} onChange={(e) => set({ model: e.currentTarget.value })}>
            {models.data.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        </Field>
        <Field id="training-file" label="Training file" error={form.trainingFile ? undefined : problems.trainingFile}>
          <select id="training-file" value={form.trainingFile} onChange={(e) => set({ trainingFile: e.currentTarget.value })}>
            <option value="">Choose…</option>
            {files.data.map((f) => (
              <option key={f.id} value={f.id}>
                {f.filename} ({f.dataset ? `${count(f.dataset.examples)} examples` : f.id})
              </option>
            ))}
          </select>
        </Field>
        <Field id="validation-file" label="Validation file (optional)" help="Evaluated after each epoch: validation loss and token accuracy.">
          <select id="validation-file" value={form.validationFile} onChange={(e) => set({ validationFile: e.currentTarget.value })}>
            <option value="">None</option>
            {files.data.map((f) => (
              <option key={f.id} value={f.id}>
                {f.filename}
              </option>
            ))}
          </select>
        </Field>
        <fieldset class="field">
          <legend>Method</legend>
          {(['supervised', 'dpo'] as const).map((m) => (
            <label key={m} class="radio">
              <input type="radio" name="method" value={m} checked={form.method === m} onChange={() => set({ method: m })} />
              {m === 'supervised' ? 'Supervised (chat or prompt/completion data)' : 'DPO (preference data)'}
            </label>
          ))}
        </fieldset>
        {(['nEpochs', 'batchSize', 'learningRateMultiplier', ...(form.method === 'dpo' ? ['beta'] : [])] as (keyof JobForm)[]).map((k) => (
          <Field key={k} id={k} label={{ nEpochs: 'Epochs', batchSize: 'Batch size', learningRateMultiplier: 'Learning rate multiplier', beta: 'Beta' }[k as string] ?? k} help={`${HELP[k]}${auto[k] ? ` For this dataset, auto is ${auto[k]}.` : ''}`} error={problems[k]}>
            <input id={k} value={form[k]} inputMode="decimal" aria-describedby={`${k}-help`} onInput={(e) => set({ [k]: e.currentTarget.value })} />
          </Field>
        ))}
        <Field id="suffix" label="Suffix (optional)" help="Part of the fine-tuned model's name: ft:base:project:suffix:id.">
          <input id="suffix" value={form.suffix} maxLength={64} onInput={(e) => set({ suffix: e.currentTarget.value })} />
        </Field>
        <Field id="seed" label="Seed (optional)" help="The same seed, data and backend give the same weights." error={problems.seed}>
          <input id="seed" value={form.seed} inputMode="numeric" onInput={(e) => set({ seed: e.currentTarget.value })} />
        </Field>
        <div class="form-actions">
          <button type="submit" disabled={!valid || busy !== null}>
            {busy === 'dry' ? 'Estimating…' : 'Dry run'}
          </button>
          <button type="button" class="primary" disabled={!valid || !dryRunCurrent || busy !== null} onClick={() => void start()} title={dryRunCurrent ? undefined : 'Run a dry run of these settings first'}>
            {busy === 'start' ? 'Starting…' : 'Start training'}
          </button>
        </div>
        <ErrorNote message={error} />
      </form>
      {dryRun && dryRun.job.status === 'succeeded' && dryRun.job.estimate && (
        <section class="card" aria-label="Dry run estimate">
          <h2>Dry run {dryRunCurrent ? '' : '(for earlier settings)'}</h2>
          <dl class="stats">
            <div>
              <dt>Tokens</dt>
              <dd data-testid="estimate-tokens">{count(dryRun.job.estimate.trained_tokens)}</dd>
            </div>
            <div>
              <dt>Steps</dt>
              <dd data-testid="estimate-steps">{count(dryRun.job.estimate.total_steps)}</dd>
            </div>
            <div>
              <dt>Estimated time</dt>
              <dd data-testid="estimate-time">{duration(dryRun.job.estimate.estimated_seconds)}</dd>
            </div>
          </dl>
          {hyper && (
            <p class="muted small">
              Resolved: {Object.entries(hyper).map(([k, v]) => `${k} = ${String(v)}`).join(', ')}
            </p>
          )}
        </section>
      )}
    </>
  )
}

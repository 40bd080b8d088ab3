// The new-job form as the body of POST /v1/fine_tuning/jobs: empty or "auto" fields stay "auto".
export interface JobForm {
  model: string
  trainingFile: string
  validationFile: string
  method: 'supervised' | 'dpo'
  nEpochs: string
  batchSize: string
  learningRateMultiplier: string
  beta: string
  suffix: string
  seed: string
}

export const EMPTY_FORM: JobForm = {
  model: '',
  trainingFile: '',
  validationFile: '',
  method: 'supervised',
  nEpochs: 'auto',
  batchSize: 'auto',
  learningRateMultiplier: 'auto',
  beta: 'auto',
  suffix: '',
  seed: '',
}

const autoOr = (v: string): 'auto' | number => (v.trim() === '' || v.trim() === 'auto' ? 'auto' : Number(v))

/** The problems that keep the form from being sent, by field. */
export function formProblems(f: JobForm): Partial<Record<keyof JobForm, string>> {
  const out: Partial<Record<keyof JobForm, string>> = {}
  if (!f.model) out.model = 'Choose a base model.'
  if (!f.trainingFile) out.trainingFile = 'Choose a training file (a processed dataset).'
  for (const k of ['nEpochs', 'batchSize', 'learningRateMultiplier', 'beta'] as const) {
    const v = autoOr(f[k])
    if (v !== 'auto' && !(Number.isFinite(v) && v > 0)) out[k] = 'A positive number, or auto.'
  }
  if (f.seed.trim() !== '' && !Number.isInteger(Number(f.seed))) out.seed = 'A whole number, or empty for a random seed.'
  return out
}

export function jobRequest(f: JobForm, dryRun: boolean) {
  const hyperparameters: Record<string, 'auto' | number> = { n_epochs: autoOr(f.nEpochs), batch_size: autoOr(f.batchSize), learning_rate_multiplier: autoOr(f.learningRateMultiplier) }
  if (f.method === 'dpo') hyperparameters.beta = autoOr(f.beta)
  return {
    model: f.model,
    training_file: f.trainingFile,
    ...(f.validationFile ? { validation_file: f.validationFile } : {}),
    ...(f.suffix.trim() ? { suffix: f.suffix.trim() } : {}),
    ...(f.seed.trim() ? { seed: Number(f.seed) } : {}),
    method: { type: f.method, [f.method]: { hyperparameters } },
    ...(dryRun ? { dry_run: true } : {}),
  }
}

// The job's result file (purpose fine-tune-results): one CSV row per reported step, in OpenAI's
// columns (full_valid_* at checkpoints, as in checkpoint metrics). Steps reported twice (a retried attempt) keep the last report.

export interface StepRow {
  step: number
  train_loss?: number
  train_mean_token_accuracy?: number
  valid_loss?: number
  valid_mean_token_accuracy?: number
  full_valid_loss?: number
  full_valid_mean_token_accuracy?: number
}

export const RESULTS_HEADER = 'step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy'

const cell = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : String(v))

export function resultsCsv(rows: StepRow[]): string {
  const byStep = new Map<number, StepRow>()
  for (const row of rows) byStep.set(row.step, row)
  const lines = [...byStep.values()]
    .sort((a, b) => a.step - b.step)
    .map((r) => [r.step, cell(r.train_loss), cell(r.train_mean_token_accuracy), cell(r.valid_loss), cell(r.valid_mean_token_accuracy), cell(r.full_valid_loss), cell(r.full_valid_mean_token_accuracy)].join(','))
  return [RESULTS_HEADER, ...lines].join('\n') + '\n'
}

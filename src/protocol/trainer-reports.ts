// What a trainer reports to the API's internal endpoints (docs/trainer-protocol.md): written by
// src/trainer/service/trainer-client.ts, read by src/reports/trainer-reports.ts.

/** A metrics report: one per training step (see docs/trainer-protocol.md). */
export interface ReportedMetrics {
  step: number
  total_steps: number
  train_loss: number
  train_mean_token_accuracy?: number
  valid_loss?: number
  valid_mean_token_accuracy?: number
  /** Tokens trained so far (all epochs); updates trained_tokens. */
  trained_tokens?: number
  /** Seconds the trainer expects to still need; updates estimated_finish. */
  remaining_seconds?: number
}

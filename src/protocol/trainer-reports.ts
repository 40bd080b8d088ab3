// What a trainer and the API's internal endpoints say to each other (docs/trainer-protocol.md): one
// schema per body. The routes validate with them (src/routes/internal/trainer.ts), the API acts on
// them (src/reports/trainer-reports.ts), the trainer sends them (src/trainer/service/trainer-client.ts).
import { Type, type Static } from 'typebox'

/** The job as its trainer sees it: the answer to GET /jobs/{id}, heartbeats and status reports. */
export const JobStateSchema = Type.Object({
  id: Type.String(),
  status: Type.String(),
  attempt: Type.Integer(),
  /** 'pause': checkpoint, report paused, exit. 'cancel': exit now. */
  stop: Type.Union([Type.Literal('pause'), Type.Literal('cancel'), Type.Null()]),
  latest_checkpoint: Type.Union([Type.Object({ step: Type.Integer(), blob_prefix: Type.String() }), Type.Null()]),
  output_prefix: Type.String(),
})
export type JobState = Static<typeof JobStateSchema>

/** One free-form event; `idempotency_key` is stable across retries and attempts (e.g. "loaded-model"). */
export const ReportedEventSchema = Type.Object({
  idempotency_key: Type.String({ minLength: 1, maxLength: 200 }),
  level: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')])),
  message: Type.String({ minLength: 1, maxLength: 4000 }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
})
export type ReportedEvent = Static<typeof ReportedEventSchema>

export const EventsReportSchema = Type.Object({ events: Type.Array(ReportedEventSchema, { maxItems: 100 }) })

/** A metrics report: one per training step. */
export const MetricsReportSchema = Type.Object({
  step: Type.Integer({ minimum: 1 }),
  total_steps: Type.Integer({ minimum: 1 }),
  train_loss: Type.Number(),
  train_mean_token_accuracy: Type.Optional(Type.Number()),
  valid_loss: Type.Optional(Type.Number()),
  valid_mean_token_accuracy: Type.Optional(Type.Number()),
  /** Over the whole validation file (the valid_* pair is a fixed sample of it): at checkpoints. */
  full_valid_loss: Type.Optional(Type.Number()),
  full_valid_mean_token_accuracy: Type.Optional(Type.Number()),
  /** Tokens trained so far (all epochs); updates trained_tokens. */
  trained_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Seconds the trainer expects to still need; updates estimated_finish. */
  remaining_seconds: Type.Optional(Type.Number({ minimum: 0 })),
})
export type ReportedMetrics = Static<typeof MetricsReportSchema>

const Step = Type.Integer({ minimum: 0 })

/** A checkpoint whose files were uploaded under `blob_prefix`. */
/** A file the trainer uploaded under the job's output prefix, to be registered as a model artifact (docs/model-artifacts.md). */
const Artifact = Type.Object({ name: Type.String(), key: Type.String() })
export type ReportedArtifact = Static<typeof Artifact>

export const CheckpointReportSchema = Type.Object({
  step: Type.Integer({ minimum: 0 }),
  metrics: Type.Record(Type.String(), Type.Number()),
  blob_prefix: Type.String(),
  /** The checkpoint model's files (adapter, GGUF, Modelfile), uploaded under blob_prefix. */
  artifacts: Type.Optional(Type.Array(Artifact, { maxItems: 100 })),
})
export type CheckpointReport = Static<typeof CheckpointReportSchema>

/** What the trainer's evaluation concluded, reported with success (README, Evaluation during training). */
export const ReportedEvaluationSchema = Type.Object({
  /** The best checkpoint by the job's metric; null when no checkpoint had it (no validation file). */
  best_checkpoint: Type.Union([Type.Object({ step: Step, metric: Type.String(), value: Type.Number() }), Type.Null()]),
  /** The step whose weights the fine-tuned model is: the best checkpoint's or the last step's. */
  served_step: Step,
  stopped_early: Type.Union([Type.Object({ step: Step, reason: Type.String({ maxLength: 1000 }) }), Type.Null()]),
  /** Loss on a general held-out text set, base model vs fine-tuned: a rise is forgetting. */
  forgetting: Type.Union([Type.Object({
    texts: Type.Integer({ minimum: 1 }),
    /** 'skillet-general-texts' (the shipped set) or the id of the job's forgetting_file. */
    source: Type.String(),
    base_loss: Type.Number(),
    fine_tuned_loss: Type.Number(),
    /** (fine_tuned_loss − base_loss) / base_loss. */
    relative_change: Type.Number(),
    warning: Type.Boolean(),
  }), Type.Null()]),
})
export type ReportedEvaluation = Static<typeof ReportedEvaluationSchema>

const TrainerError = Type.Object({ code: Type.Optional(Type.String()), message: Type.String() })
const TrainedTokens = Type.Integer({ minimum: 0 })
/** What a succeeded attempt measured, for the next estimates (src/jobs/training-speed.ts). */
const Speed = Type.Object({
  backend: Type.String({ minLength: 1, maxLength: 64 }),
  /** Steady-state training speed (the first step, warm-up, left out). */
  tokens_per_second: Type.Number({ exclusiveMinimum: 0 }),
  /** Seconds of the attempt spent besides training at that speed: start, model load, warm-up, exports. */
  overhead_seconds: Type.Number({ minimum: 0 }),
})

/** How an attempt ended, as the trainer says it. */
export const StatusReportSchema = Type.Union([
  Type.Object({ status: Type.Literal('succeeded'), trained_tokens: Type.Optional(TrainedTokens), artifacts: Type.Array(Artifact, { maxItems: 100 }), evaluation: Type.Optional(ReportedEvaluationSchema), speed: Type.Optional(Speed) }),
  Type.Object({ status: Type.Literal('failed'), error: TrainerError }),
  Type.Object({ status: Type.Literal('paused'), step: Type.Optional(Step) }),
])
export type StatusReport = Static<typeof StatusReportSchema>

/**
 * The status body as the route accepts it: the same fields, all optional but `status`, so that a
 * missing `error` on a failure gets a message of its own (the route narrows it to a StatusReport).
 */
export const StatusReportBodySchema = Type.Object({
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('paused')]),
  trained_tokens: Type.Optional(TrainedTokens),
  step: Type.Optional(Step),
  artifacts: Type.Optional(Type.Array(Artifact, { maxItems: 100 })),
  evaluation: Type.Optional(ReportedEvaluationSchema),
  speed: Type.Optional(Speed),
  error: Type.Optional(TrainerError),
})

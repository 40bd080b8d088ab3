// The TrainerJobSpec of a claimed job: everything its trainer needs, nothing it must look up.
import { inArray } from 'drizzle-orm'
import type { Db } from '../../db/database.ts'
import { files } from '../../db/schema/index.ts'
import type { TrainerJobSpec, TrainingChoices } from '../../protocol/trainer-job-spec.ts'
import type { AnswerEvalChoices } from '../../protocol/answer-eval-settings.ts'
import type { GgufFileType } from '../../protocol/training-settings.ts'
import type { CheckpointMetricName } from '../../protocol/checkpoint-metrics.ts'
import type { ResolvedJobHyperparameters } from '../../db/schema/jobs.ts'
import type { JobRow } from '../../jobs/job-object.ts'
import { jobOutputPrefix } from '../../jobs/trainer-token.ts'

/** The extensions a job set, in the spec's terms (nothing set: none, so the trainer's defaults hold). */
export function trainingChoices(h: ResolvedJobHyperparameters): TrainingChoices | undefined {
  const lora = Object.fromEntries(
    Object.entries({ rank: h.lora_r, alpha: h.lora_alpha, dropout: h.lora_dropout, targetModules: h.lora_target_modules }).filter(([, v]) => v !== undefined),
  )
  const evaluation: NonNullable<TrainingChoices['evaluation']> = {
    ...(h.eval_every !== undefined ? { everySteps: h.eval_every } : {}),
    ...(h.early_stopping_patience !== undefined ? { earlyStopping: { patience: h.early_stopping_patience, minDelta: h.early_stopping_min_delta ?? 0 } } : {}),
    ...(h.best_checkpoint_metric !== undefined ? { bestMetric: h.best_checkpoint_metric as CheckpointMetricName } : {}),
    ...(h.serve_checkpoint !== undefined ? { serve: h.serve_checkpoint } : {}),
  }
  const answerEval = Object.fromEntries(
    Object.entries({ graders: h.eval_graders, jsonSchema: h.eval_json_schema, maxExamples: h.eval_max_examples, maxNewTokens: h.eval_max_new_tokens }).filter(([, v]) => v !== undefined),
  ) as AnswerEvalChoices
  const choices: TrainingChoices = {
    ...(h.adapter ? { adapter: h.adapter } : {}),
    ...(h.qlora_bits ? { qloraBits: h.qlora_bits as 4 | 8 } : {}),
    ...(Object.keys(lora).length ? { lora } : {}),
    ...(h.gguf_type ? { ggufTypes: h.gguf_type as GgufFileType[] } : {}),
    ...(Object.keys(evaluation).length ? { evaluation } : {}),
    ...(Object.keys(answerEval).length ? { answerEval } : {}),
  }
  return Object.keys(choices).length ? choices : undefined
}

export async function buildJobSpec(db: Db, job: JobRow, start: Pick<TrainerJobSpec, 'model' | 'initAdapter'>, callbackUrl: string): Promise<TrainerJobSpec> {
  const h = job.resolvedHyperparameters
  if (!h) throw new Error(`job ${job.id} has no resolved hyperparameters`)
  const ids = [job.trainingFile, ...(job.validationFile ? [job.validationFile] : []), ...(h.forgetting_file ? [h.forgetting_file] : [])]
  const rows = await db.select({ id: files.id, blobKey: files.blobKey }).from(files).where(inArray(files.id, ids))
  const byId = new Map(rows.map((r) => [r.id, r]))
  const training = byId.get(job.trainingFile)
  if (!training) throw new Error(`training file ${job.trainingFile} no longer exists`)
  const forgetting = h.forgetting_file ? byId.get(h.forgetting_file) : undefined
  if (h.forgetting_file && !forgetting) throw new Error(`forgetting file ${h.forgetting_file} no longer exists`)
  const common = { nEpochs: h.n_epochs, batchSize: h.batch_size, learningRateMultiplier: h.learning_rate_multiplier }
  return {
    jobId: job.id,
    projectId: job.projectId,
    model: start.model,
    ...(start.initAdapter ? { initAdapter: start.initAdapter } : {}),
    trainingFile: training,
    validationFile: job.validationFile ? (byId.get(job.validationFile) ?? null) : null,
    ...(forgetting ? { forgettingFile: forgetting } : {}),
    method: job.method.type === 'dpo' ? { type: 'dpo', ...common, beta: h.beta ?? 0.1 } : { type: 'supervised', ...common },
    ...(trainingChoices(h) ? { training: trainingChoices(h) } : {}),
    seed: job.seed,
    outputPrefix: jobOutputPrefix(job.projectId, job.id),
    callbackUrl,
    attempt: job.attempts,
  }
}

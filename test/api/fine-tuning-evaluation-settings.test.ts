// The evaluation extensions under method.*.hyperparameters: eval_every, early stopping, the best
// checkpoint's metric and which checkpoint is served. Bad values and settings that need a
// validation file without one are 400s naming the field; good ones reach the trainer's spec.
import t from 'tap'
import { trainingChoices } from '../../src/running/scheduler/trainer-job-spec.ts'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { chatExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'

t.test('evaluation settings in the job API', async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const chat = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  const valid = await uploadDataset(client, Array.from({ length: 4 }, (_, i) => chatExample(i + 20)), 'valid.jsonl')
  const S = 'method.supervised.hyperparameters'
  const sft = (hyperparameters: Record<string, unknown>, validation: boolean = true) => ({
    model: TEST_BASE_MODEL, training_file: chat.id, ...(validation ? { validation_file: valid.id } : {}), method: { type: 'supervised', supervised: { hyperparameters } },
  })

  t.test('precise 400s', async (t) => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['eval_every 0', sft({ eval_every: 0 }), `${S}.eval_every`, /an integer number of steps between 1 and 1000000/],
      ['eval_every not an integer', sft({ eval_every: 2.5 }), `${S}.eval_every`, /got 2\.5/],
      ['eval_every a word', sft({ eval_every: 'often' }), `${S}.eval_every`, /eval_every/],
      ['eval_every without a validation file', sft({ eval_every: 5 }, false), `${S}.eval_every`, /needs a 'validation_file'/],
      ['patience 0', sft({ early_stopping_patience: 0 }), `${S}.early_stopping_patience`, /between 1 and 1000/],
      ['early stopping without a validation file', sft({ early_stopping_patience: 3 }, false), `${S}.early_stopping_patience`, /needs a 'validation_file'/],
      ['negative min delta', sft({ early_stopping_patience: 3, early_stopping_min_delta: -0.1 }), `${S}.early_stopping_min_delta`, /at least 0/],
      ['min delta without patience', sft({ early_stopping_min_delta: 0.1 }), `${S}.early_stopping_min_delta`, /only with 'method\.supervised\.hyperparameters\.early_stopping_patience'/],
      ['unknown metric', sft({ best_checkpoint_metric: 'bleu' }), `${S}.best_checkpoint_metric`, /one of 'valid_loss', 'valid_mean_token_accuracy', 'full_valid_loss', 'full_valid_mean_token_accuracy'/],
      ['a metric without a validation file', sft({ best_checkpoint_metric: 'full_valid_loss' }, false), `${S}.best_checkpoint_metric`, /needs a 'validation_file'/],
      ['forgetting_file empty', sft({ forgetting_file: '' }), `${S}.forgetting_file`, /the id of a file uploaded with purpose fine-tune/],
      ['forgetting_file unknown', sft({ forgetting_file: 'file-nope' }), `${S}.forgetting_file`, /no such File object: file-nope/],
      ['serve something else', sft({ serve_checkpoint: 'first' }), `${S}.serve_checkpoint`, /one of 'best', 'last'/],
    ]
    for (const [name, body, param, message] of cases) {
      await t.test(name, async (t) => {
        await assertApiError(t, client.fineTuning.jobs.create(body as never), { status: 400, param, message })
      })
    }
  })

  t.test('accepted settings are kept, resolved and passed to the trainer', async (t) => {
    const settings = { eval_every: 3, early_stopping_patience: 2, early_stopping_min_delta: 0.01, best_checkpoint_metric: 'full_valid_mean_token_accuracy', serve_checkpoint: 'last', forgetting_file: valid.id }
    const job = await client.fineTuning.jobs.create({ ...sft({ n_epochs: 2, ...settings }), dry_run: true } as never)
    assertSpec(t, 'FineTuningJob', job)
    t.match(job.method!.supervised?.hyperparameters, settings, 'echoed beside the OpenAI fields')
    await ctx.scheduler.scheduler.tick()
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    const resolved = done.method!.supervised!.hyperparameters as Record<string, unknown>
    t.match(resolved, { n_epochs: 2, ...settings }, 'resolved with the OpenAI fields')
    t.same(trainingChoices(resolved as never), {
      evaluation: { everySteps: 3, earlyStopping: { patience: 2, minDelta: 0.01 }, bestMetric: 'full_valid_mean_token_accuracy', serve: 'last' },
    }, "the trainer spec's evaluation choices")
    t.same(trainingChoices({ n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1, early_stopping_patience: 4 }), { evaluation: { earlyStopping: { patience: 4, minDelta: 0 } } }, 'min delta defaults to 0')
    const last = await client.fineTuning.jobs.create(sft({ serve_checkpoint: 'last' }, false) as never)
    t.match(last.method!.supervised?.hyperparameters, { serve_checkpoint: 'last' }, "serve 'last' needs no validation file")
    const auto = await client.fineTuning.jobs.create(sft({ eval_every: 'auto' }) as never)
    t.notOk('eval_every' in auto.method!.supervised!.hyperparameters!, "eval_every 'auto' is the default")
  })
})

// The answer evaluation's settings under method.*.hyperparameters (eval_graders, eval_json_schema,
// eval_max_examples, eval_max_new_tokens): bad values are 400s naming the field; good ones are
// kept on the job and reach the trainer's spec.
import t from 'tap'
import { trainingChoices } from '../../src/running/scheduler/trainer-job-spec.ts'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { chatExample, preferenceExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'

t.test('answer evaluation settings in the job API', async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const chat = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  const valid = await uploadDataset(client, Array.from({ length: 3 }, (_, i) => chatExample(i)), 'valid.jsonl')
  const prefs = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => preferenceExample(i)), 'prefs.jsonl')
  const sft = (hyperparameters: Record<string, unknown>, validation: string | null = valid.id) =>
    ({ model: TEST_BASE_MODEL, training_file: chat.id, validation_file: validation, method: { type: 'supervised', supervised: { hyperparameters } } })
  const S = 'method.supervised.hyperparameters'
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] }

  t.test('precise 400s', async (t) => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['graders not a list', sft({ eval_graders: 'exact_match' }), `${S}.eval_graders`, /Invalid value for 'method\.supervised\.hyperparameters\.eval_graders': must be array/],
      ['an unknown grader', sft({ eval_graders: ['exact_match', 'cosine'] }), `${S}.eval_graders`, /got "cosine"/],
      ['a grader that is not a string', sft({ eval_graders: [{ type: 'string_check' }] }), `${S}.eval_graders.0`, /must be string/],
      ['an unknown grader says which exist', sft({ eval_graders: ['exact'] }), `${S}.eval_graders`, /among 'exact_match', 'fuzzy_match', 'bleu'.*'json_schema'/],
      ['json_schema without a schema', sft({ eval_graders: ['json_schema'] }), `${S}.eval_graders`, /needs '.*eval_json_schema'/],
      ['a schema without json_schema', sft({ eval_json_schema: schema }), `${S}.eval_json_schema`, /used only by the 'json_schema' grader/],
      ['a schema that is not an object', sft({ eval_graders: ['json_schema'], eval_json_schema: [schema] }), `${S}.eval_json_schema`, /Invalid value for 'method\.supervised\.hyperparameters\.eval_json_schema'/],
      ['a schema too large', sft({ eval_graders: ['json_schema'], eval_json_schema: { description: 'x'.repeat(20000) } }), `${S}.eval_json_schema`, /at most 16384 bytes/],
      ['no examples', sft({ eval_max_examples: 0 }), `${S}.eval_max_examples`, /an integer between 1 and 1000/],
      ['too many examples', sft({ eval_max_examples: 1001 }), `${S}.eval_max_examples`, /between 1 and 1000/],
      ['tokens not an integer', sft({ eval_max_new_tokens: 2.5 }), `${S}.eval_max_new_tokens`, /an integer between 1 and 1024/],
      ['too many tokens', sft({ eval_max_new_tokens: 2048 }), `${S}.eval_max_new_tokens`, /between 1 and 1024/],
      ['no validation file to answer', sft({ eval_graders: ['exact_match'] }, null), `${S}.eval_graders`, /give a 'validation_file'/],
      ['the best checkpoint by a score not computed', sft({ eval_graders: ['fuzzy_match'], best_checkpoint_metric: 'eval_exact_match' }), `${S}.best_checkpoint_metric`, /'exact_match' grader, which this job does not run/],
      ['valid_json is not a default to choose by', sft({ best_checkpoint_metric: 'eval_valid_json' }), `${S}.best_checkpoint_metric`, /add 'valid_json' to .*eval_graders' \(now the default, 'exact_match', 'fuzzy_match'\)/],
      ['an answer score needs a validation file', sft({ best_checkpoint_metric: 'eval_exact_match' }, null), `${S}.best_checkpoint_metric`, /needs a 'validation_file'/],
    ]
    for (const [name, body, param, message] of cases) {
      await t.test(name, async (t) => {
        await assertApiError(t, client.fineTuning.jobs.create(body as never), { status: 400, param, message })
      })
    }
  })

  t.test('accepted settings are kept, resolved and passed to the trainer', async (t) => {
    const settings = { eval_graders: ['exact_match', 'rouge_l', 'json_schema', 'exact_match'], eval_json_schema: schema, eval_max_examples: 20, eval_max_new_tokens: 32 }
    const job = await client.fineTuning.jobs.create({ ...sft({ n_epochs: 1, ...settings }), dry_run: true } as never)
    assertSpec(t, 'FineTuningJob', job)
    const kept = { ...settings, eval_graders: ['exact_match', 'rouge_l', 'json_schema'] }
    t.match(job.method!.supervised?.hyperparameters, kept, 'echoed (duplicates dropped)')
    await ctx.scheduler.scheduler.tick()
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    t.equal(done.status, 'succeeded')
    assertSpec(t, 'FineTuningJob', done)
    t.same(trainingChoices(done.method!.supervised!.hyperparameters as never), { answerEval: { graders: kept.eval_graders, jsonSchema: schema, maxExamples: 20, maxNewTokens: 32 } }, "the trainer spec's answer evaluation")
    const byScore = await client.fineTuning.jobs.create({ ...sft({ best_checkpoint_metric: 'eval_exact_match' }), dry_run: true } as never)
    t.match(byScore.method!.supervised?.hyperparameters, { best_checkpoint_metric: 'eval_exact_match' }, 'a default answer score is a choosable best-checkpoint metric')
    const byRouge = await client.fineTuning.jobs.create({ ...sft({ eval_graders: ['rouge_l'], best_checkpoint_metric: 'eval_rouge_l' }), dry_run: true } as never)
    t.match(byRouge.method!.supervised?.hyperparameters, { best_checkpoint_metric: 'eval_rouge_l' }, 'and a chosen one')
    const off = await client.fineTuning.jobs.create({ ...sft({ eval_graders: [] }), dry_run: true } as never)
    t.same(off.method!.supervised?.hyperparameters?.['eval_graders' as never], [], '[] (no answer evaluation) is kept')
    const pref = await client.fineTuning.jobs.create({ model: TEST_BASE_MODEL, training_file: prefs.id, validation_file: prefs.id, method: { type: 'dpo', dpo: { hyperparameters: { eval_graders: ['fuzzy_match'] } } }, dry_run: true } as never)
    t.match(pref.method!.dpo?.hyperparameters, { eval_graders: ['fuzzy_match'] }, 'DPO jobs take them too (the preferred output is the reference)')
  })
})

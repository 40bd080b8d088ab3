// Skillet's extensions under method.*.hyperparameters: adapter (lora | qlora | full, qlora_bits), the LoRA shape and
// the GGUF export types. Bad values are 400s naming the field, as for OpenAI's own fields; good
// ones are kept on the job, resolved alongside the OpenAI fields, and reach the trainer's spec.
import t from 'tap'
import { trainingChoices } from '../../src/running/scheduler/trainer-job-spec.ts'
import { assertApiError, assertSpec } from '../helpers/openai-spec.ts'
import { chatExample, preferenceExample, startJobsApp, TEST_BASE_MODEL, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'

t.test('training settings in the job API', async (t) => {
  const ctx = await startJobsApp(t)
  const { client } = ctx
  const chat = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => chatExample(i)))
  const prefs = await uploadDataset(client, Array.from({ length: 12 }, (_, i) => preferenceExample(i)), 'prefs.jsonl')
  const sft = (hyperparameters: Record<string, unknown>) => ({ model: TEST_BASE_MODEL, training_file: chat.id, method: { type: 'supervised', supervised: { hyperparameters } } })
  const dpo = (hyperparameters: Record<string, unknown>) => ({ model: TEST_BASE_MODEL, training_file: prefs.id, method: { type: 'dpo', dpo: { hyperparameters } } })
  const S = 'method.supervised.hyperparameters'

  t.test('precise 400s', async (t) => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['unknown adapter', sft({ adapter: 'prefix' }), `${S}.adapter`, /expected one of 'lora', 'qlora', 'full'/],
      ['qlora bits not 4 or 8', sft({ adapter: 'qlora', qlora_bits: 2 }), `${S}.qlora_bits`, /expected one of 4, 8, got 2/],
      ['qlora bits as a string', sft({ adapter: 'qlora', qlora_bits: '4' }), `${S}.qlora_bits`, /Invalid value for 'method\.supervised\.hyperparameters\.qlora_bits'/],
      ['qlora bits without qlora', sft({ adapter: 'lora', qlora_bits: 8 }), `${S}.qlora_bits`, /only with 'adapter': 'qlora'/],
      ['qlora bits with no adapter', dpo({ qlora_bits: 4 }), 'method.dpo.hyperparameters.qlora_bits', /only with 'adapter': 'qlora'/],
      ['full fine-tuning with DPO', dpo({ adapter: 'full' }), 'method.dpo.hyperparameters.adapter', /DPO trains LoRA adapters/],
      ['LoRA rank with full fine-tuning', sft({ adapter: 'full', lora_r: 8 }), `${S}.lora_r`, /only with 'adapter': 'lora'/],
      ['rank 0', sft({ lora_r: 0 }), `${S}.lora_r`, /an integer between 1 and 256/],
      ['rank not an integer', sft({ lora_r: 4.5 }), `${S}.lora_r`, /an integer/],
      ['rank too large', sft({ lora_r: 257 }), `${S}.lora_r`, /between 1 and 256/],
      ['alpha 0', sft({ lora_alpha: 0 }), `${S}.lora_alpha`, /greater than 0/],
      ['alpha an object', sft({ lora_alpha: { value: 16 } }), `${S}.lora_alpha`, /Invalid value for 'method\.supervised\.hyperparameters\.lora_alpha'/],
      ['dropout 1', sft({ lora_dropout: 1 }), `${S}.lora_dropout`, /up to \(not including\) 1/],
      ['dropout negative', dpo({ lora_dropout: -0.1 }), 'method.dpo.hyperparameters.lora_dropout', /from 0/],
      ['no target modules', sft({ lora_target_modules: [] }), `${S}.lora_target_modules`, /non-empty array/],
      ['target modules an object', sft({ lora_target_modules: { q_proj: true } }), `${S}.lora_target_modules`, /Invalid value for 'method\.supervised\.hyperparameters\.lora_target_modules'/],
      ['unknown target module', sft({ lora_target_modules: ['q_proj', 'attn'] }), `${S}.lora_target_modules`, /got "attn"/],
      ['unknown GGUF type', sft({ gguf_type: 'Q2_K' }), `${S}.gguf_type`, /one of 'F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_K_M'/],
      ['empty GGUF list', sft({ gguf_type: [] }), `${S}.gguf_type`, /non-empty array/],
      ['a bad type in the list', sft({ gguf_type: ['F16', 'q4_0'] }), `${S}.gguf_type`, /got "q4_0"/],
      ['the deprecated form checks them too', { model: TEST_BASE_MODEL, training_file: chat.id, hyperparameters: { lora_r: -1 } }, 'hyperparameters.lora_r', /between 1 and 256/],
    ]
    for (const [name, body, param, message] of cases) {
      await t.test(name, async (t) => {
        await assertApiError(t, client.fineTuning.jobs.create(body as never), { status: 400, param, message })
      })
    }
  })

  t.test('accepted settings are kept, resolved and passed to the trainer', async (t) => {
    const settings = { adapter: 'lora', lora_r: 4, lora_alpha: 8, lora_dropout: 0, lora_target_modules: ['q_proj', 'v_proj', 'q_proj'], gguf_type: ['Q4_K_M', 'F16'] }
    const job = await client.fineTuning.jobs.create({ ...sft({ n_epochs: 2, ...settings }), dry_run: true } as never)
    assertSpec(t, 'FineTuningJob', job)
    const kept = { adapter: 'lora', lora_r: 4, lora_alpha: 8, lora_dropout: 0, lora_target_modules: ['q_proj', 'v_proj'], gguf_type: ['Q4_K_M', 'F16'] }
    t.match(job.method!.supervised?.hyperparameters, { n_epochs: 2, batch_size: 'auto', ...kept }, 'echoed (duplicates dropped), beside the OpenAI fields')
    await ctx.scheduler.scheduler.tick()
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    assertSpec(t, 'FineTuningJob', done)
    const resolved = done.method!.supervised!.hyperparameters as Record<string, unknown>
    t.match(resolved, { n_epochs: 2, batch_size: Number, learning_rate_multiplier: Number, ...kept }, 'resolved with the OpenAI fields')
    t.same(trainingChoices(resolved as never), { adapter: 'lora', lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'] }, ggufTypes: ['Q4_K_M', 'F16'] }, "the trainer spec's training choices")

    const full = await client.fineTuning.jobs.create({ ...sft({ adapter: 'full', gguf_type: 'Q4_0' }), dry_run: true } as never)
    t.match(full.method!.supervised?.hyperparameters, { adapter: 'full', gguf_type: ['Q4_0'] }, 'one GGUF type is a list of one')
    const pref = await client.fineTuning.jobs.create(dpo({ lora_r: 16, beta: 0.2 }) as never)
    t.match(pref.method!.dpo?.hyperparameters, { lora_r: 16, beta: 0.2 }, 'DPO takes the LoRA shape too')

    const q = await client.fineTuning.jobs.create({ ...sft({ adapter: 'qlora', qlora_bits: 8, lora_r: 4 }), dry_run: true } as never)
    t.match(q.method!.supervised?.hyperparameters, { adapter: 'qlora', qlora_bits: 8, lora_r: 4 }, 'QLoRA with its bits and a LoRA shape')
    await ctx.scheduler.scheduler.tick()
    const qDone = await waitForJob(client, q.id, ['succeeded', 'failed'])
    t.same(trainingChoices(qDone.method!.supervised!.hyperparameters as never), { adapter: 'qlora', qloraBits: 8, lora: { rank: 4 } }, 'QLoRA reaches the spec')
    const q4 = await client.fineTuning.jobs.create(dpo({ adapter: 'qlora' }) as never)
    t.match(q4.method!.dpo?.hyperparameters, { adapter: 'qlora' }, 'DPO on a quantised base')
  })

  t.test('without settings, nothing changes: no training choices in the spec', async (t) => {
    const job = await client.fineTuning.jobs.create({ ...sft({ n_epochs: 1 }), dry_run: true } as never)
    await ctx.scheduler.scheduler.tick()
    const done = await waitForJob(client, job.id, ['succeeded', 'failed'])
    t.same(Object.keys(done.method!.supervised!.hyperparameters!).sort(), ['batch_size', 'learning_rate_multiplier', 'n_epochs'])
    t.equal(trainingChoices(done.method!.supervised!.hyperparameters as never), undefined)
  })
})

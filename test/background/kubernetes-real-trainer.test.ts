// From POST /v1/fine_tuning/jobs to a succeeded job through the Kubernetes executor with the real
// trainer: the fake cluster runs the Job's container command — `node src/cli/trainer.ts`, the trainer
// image's default (DEFAULT_TRAINER_COMMAND) — on the generated tiny demo model, with the env the pod
// gets from its Secret, and the trainer reports back at SKILLET_INTERNAL_URL.
import t from 'tap'
import { DEMO_MODEL_ID } from '../../src/config/index.ts'
import { DEFAULT_TRAINER_COMMAND } from '../../src/config/kubernetes-executor-config.ts'
import { blobStoreEnv } from '../../src/config/blob-store-env.ts'
import { ensureDemoModel } from '../../src/models/demo-model.ts'
import { allEvents, uploadDataset, waitForJob } from '../helpers/jobs-test-app.ts'
import { startKubeApp } from '../helpers/kube-test-app.ts'

const WORDS = ['apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'lemon', 'piano', 'candle', 'forest', 'silver']
const example = (word: string) => ({ messages: [{ role: 'user', content: `Repeat ${word}` }, { role: 'assistant', content: `Word: ${word}.` }] })

t.test('the real trainer runs as a Kubernetes Job and the job succeeds', async (t) => {
  t.same(DEFAULT_TRAINER_COMMAND, ['node', 'src/cli/trainer.ts'])
  const ctx = await startKubeApp(t, {
    // The image's default command, with `node` resolved to this test's Node (the fake kubelet has no image).
    executor: { command: [process.execPath, ...DEFAULT_TRAINER_COMMAND.slice(1)] },
    // What the trainer image and its S3 Secret provide in a cluster: here, the test API's blob store.
    containerEnv: (app) => ({ ...blobStoreEnv(app.config), SKILLET_TRAINER_BACKEND: 'wasm' }),
  })
  const demo = ctx.config.jobs.baseModels[DEMO_MODEL_ID]
  if (demo?.kind !== 'dir') throw new Error('the embedded defaults should list the demo model')
  await ensureDemoModel(demo.path) // what the server does on first start

  const { client } = ctx
  const training = await uploadDataset(client, WORDS.map(example), 'train.jsonl')
  const job = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID,
    training_file: training.id,
    suffix: 'kube',
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 4 } } },
  })
  const k8sJob = await ctx.jobOnCluster(job.id)
  t.same(k8sJob.spec!.template.spec!.containers[0].command!.slice(1), ['src/cli/trainer.ts'])
  const done = await waitForJob(client, job.id, ['succeeded', 'failed', 'cancelled'], 180_000)
  t.equal(done.status, 'succeeded', JSON.stringify(done.error))
  t.match(done.fine_tuned_model, /^ft:skillet-tiny-llama:[^:]+:kube:[A-Za-z0-9]{8}$/)
  const messages = (await allEvents(client, job.id)).map((e) => e.message)
  t.ok(messages.some((m) => /^Trainer attempt 1 started/.test(m)), 'the trainer in the pod reported')
  t.ok(messages.includes('The job has successfully completed'))
  const models = await client.models.list()
  t.ok(models.data.some((m) => m.id === done.fine_tuned_model), 'the model is listed')
})

// A scripted stand-in for the real trainer, run as a child process by the local executor
// (SKILLET_TRAINER_COMMAND="node test/helpers/fake-trainer.ts --scripts DIR"). It speaks the
// trainer protocol through the real client: heartbeats, one metrics report per step, a checkpoint
// every few steps (its bytes uploaded as a blob), artifacts and a final status. What it does is
// read from DIR/{training file id}.json (else DIR/default.json): steps, step time, and whether to
// crash, hang or fail at some step. A retried attempt resumes from the latest checkpoint.
import fs from 'node:fs'
import path from 'node:path'
import { TrainerClient, TrainerProtocolError } from '../../src/trainer/service/trainer-client.ts'
import type { FakeTrainerScript } from './jobs-test-app.ts'


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function readScript(dir: string | undefined, trainingFileId: string): FakeTrainerScript & { steps: number; stepMs: number; checkpointEvery: number } {
  let script: FakeTrainerScript = {}
  for (const name of [trainingFileId, 'default']) {
    const p = dir ? path.join(dir, `${name}.json`) : ''
    if (p && fs.existsSync(p)) {
      script = JSON.parse(fs.readFileSync(p, 'utf8')) as FakeTrainerScript
      break
    }
  }
  return { steps: 6, stepMs: 30, checkpointEvery: 2, ...script }
}

async function main(): Promise<void> {
  TrainerClient.exitWithParent()
  const { spec, client } = TrainerClient.fromEnv(process.env, { initialDelayMs: 100, maxDelayMs: 1000 })
  await client.heartbeat() // first thing: startup time counts against the heartbeat timeout
  const scriptsAt = process.argv.indexOf('--scripts')
  const script = readScript(scriptsAt > 0 ? process.argv[scriptsAt + 1] : undefined, spec.trainingFile.id)
  const examples = (await client.trainingFile()).split('\n').filter(Boolean).length
  const state = await client.state()
  let step = state.latest_checkpoint?.step ?? 0
  if (step > 0) {
    const saved = new TextDecoder().decode(await client.getBlob(`checkpoints/step-${step}/adapter.bin`))
    if (saved !== `fake adapter at step ${step}`) throw new Error(`checkpoint at step ${step} is corrupt: ${saved}`)
  }
  // Keyed by the starting step too: a pod replaced within one attempt (Kubernetes eviction) resumes and says so.
  await client.events([{ idempotency_key: `attempt-${spec.attempt}-from-${step}`, message: `Fake trainer attempt ${spec.attempt}: ${examples} examples, starting at step ${step}` }])
  // What a job on an ft: model starts from, for the tests to see.
  if (spec.initAdapter) await client.events([{ idempotency_key: 'init-adapter', message: `Fake trainer continues from ${spec.initAdapter.model}`, data: { ...spec.initAdapter, base: spec.model.id } }])
  const firstAttempt = spec.attempt === 1
  const checkpoint = async (at: number) => {
    await client.putBlob(`checkpoints/step-${at}/adapter.bin`, new TextEncoder().encode(`fake adapter at step ${at}`))
    // The checkpoint model's artifacts, beside its training state (docs/model-artifacts.md).
    const artifacts = []
    for (const [name, text] of [['adapter/adapter_config.json', '{"peft_type": "LORA"}'], ['adapter/adapter_model.safetensors', `adapter of ${spec.jobId} at step ${at}`], ['model.gguf', `GGUF of ${spec.jobId} at step ${at}`]]) {
      artifacts.push({ name, key: (await client.putBlob(`checkpoints/step-${at}/artifacts/${name}`, new TextEncoder().encode(text))).key })
    }
    await client.checkpoint({ step: at, metrics: { train_loss: 1 / at, train_mean_token_accuracy: 0.5 }, blob_prefix: `${state.output_prefix}checkpoints/step-${at}/`, artifacts })
  }
  while (step < script.steps) {
    step++
    if (firstAttempt && script.crashAtStep === step) {
      process.stderr.write(`fake trainer: simulated crash at step ${step}: CUDA error: out of memory\n`)
      process.exit(3)
    }
    if (firstAttempt && script.killAtStep === step) {
      process.stderr.write(`fake trainer: allocating activations for step ${step}\nWarning: vkCreateInstance failed with VK_ERROR_INCOMPATIBLE_DRIVER\n`)
      process.kill(process.pid, 'SIGKILL')
    }
    if ((firstAttempt || script.hangAlways) && script.hangAtStep === step) {
      process.stderr.write(`fake trainer: hanging at step ${step}\n`)
      await new Promise(() => setInterval(() => {}, 1 << 30))
    }
    if (script.failAtStep === step) {
      await client.status({ status: 'failed', error: { code: 'training_diverged', message: `loss became NaN at step ${step}` } })
      return
    }
    await sleep(script.stepMs)
    const now = await client.heartbeat()
    if (now.stop === 'cancel') return
    await client.metrics({ step, total_steps: script.steps, train_loss: 2 / step, train_mean_token_accuracy: step / script.steps, trained_tokens: step * 100, remaining_seconds: ((script.steps - step) * script.stepMs) / 1000 })
    if (step % script.checkpointEvery === 0 || now.stop === 'pause') await checkpoint(step)
    if (now.stop === 'pause') {
      await client.status({ status: 'paused', step })
      return
    }
  }
  const adapter = await client.putBlob('artifacts/adapter/adapter_model.safetensors', new TextEncoder().encode(`adapter weights of ${spec.jobId}`))
  const adapterConfig = await client.putBlob('artifacts/adapter/adapter_config.json', new TextEncoder().encode('{"peft_type": "LORA"}'))
  const gguf = await client.putBlob('artifacts/model.gguf', new TextEncoder().encode(`GGUF of ${spec.jobId}`))
  await client.status({
    status: 'succeeded',
    trained_tokens: script.steps * 100,
    artifacts: [
      { name: 'adapter/adapter_config.json', key: adapterConfig.key },
      { name: 'adapter/adapter_model.safetensors', key: adapter.key },
      { name: 'model.gguf', key: gguf.key },
    ],
    ...(script.speed ? { speed: script.speed } : {}),
  })
}

main().catch((err) => {
  if (err instanceof TrainerProtocolError && err.shouldStop) process.exit(0)
  process.stderr.write(`fake trainer failed: ${(err as Error).stack}\n`)
  process.exit(1)
})

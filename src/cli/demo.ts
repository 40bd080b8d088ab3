// `npm run demo`: starts Skillet on embedded defaults and runs a whole fine-tuning job against it
// with the official openai SDK — upload a dataset, create a job on the demo base model, follow its
// events, list the new model and its artifacts. The service keeps running afterwards (Ctrl-C stops it).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import OpenAI, { toFile } from 'openai'
import { generateApiKey } from '../auth/api-keys.ts'
import { DEMO_MODEL_ID, loadConfig } from '../config/index.ts'

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

/** A small chat dataset with a fixed reply format the demo model cannot produce before training. */
function demoDataset(): string {
  const words = ['apple', 'river', 'stone', 'cloud', 'tiger', 'maple', 'ocean', 'ember', 'piano', 'lemon', 'comet', 'delta', 'amber', 'frost', 'koala', 'nylon', 'orbit', 'pearl', 'quartz', 'saffron']
  return words.map((w) => JSON.stringify({ messages: [{ role: 'user', content: `Repeat ${w}` }, { role: 'assistant', content: `Word: ${w}.` }] })).join('\n') + '\n'
}

async function waitForHealth(baseURL: string, child: ReturnType<typeof spawn>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`)
    if (await fetch(`${baseURL}/healthz`).then((r) => r.ok, () => false)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('the server did not become healthy within 2 minutes')
}

async function main(): Promise<void> {
  const config = loadConfig()
  const apiKey = config.apiKey ?? generateApiKey()
  const server = spawn(process.execPath, [fileURLToPath(new URL('../server.ts', import.meta.url))], {
    env: { ...process.env, SKILLET_API_KEY: apiKey, SKILLET_LOG_LEVEL: process.env.SKILLET_LOG_LEVEL ?? 'warn' },
    stdio: 'inherit',
  })
  const stop = () => server.kill('SIGTERM')
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host
  const baseURL = `http://${host}:${config.port}`
  await waitForHealth(baseURL, server)
  const client = new OpenAI({ baseURL: `${baseURL}/v1`, apiKey })
  const say = (line: string) => process.stdout.write(`${line}\n`)

  say(`Skillet is up at ${baseURL} (docs: ${baseURL}/docs). API key: ${config.apiKey ? '$SKILLET_API_KEY' : apiKey}`)
  const file = await client.files.create({ file: await toFile(Buffer.from(demoDataset()), 'demo.jsonl'), purpose: 'fine-tune' })
  const processed = await client.files.waitForProcessing(file.id)
  say(`uploaded ${file.id} (${processed.bytes} bytes): ${processed.status}`)

  const job = await client.fineTuning.jobs.create({
    model: DEMO_MODEL_ID,
    training_file: file.id,
    suffix: 'demo',
    method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 5 } } },
  })
  say(`created ${job.id} on ${DEMO_MODEL_ID}; events:`)
  const seen = new Set<string>()
  const printNewEvents = async () => {
    const page = await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })
    for (const event of [...page.data].reverse()) {
      if (seen.has(event.id)) continue
      seen.add(event.id)
      if (event.type !== 'metrics') say(`  [${event.level}] ${event.message}`)
    }
  }
  let current = job
  while (!TERMINAL.has(current.status)) {
    await printNewEvents()
    await new Promise((r) => setTimeout(r, 500))
    current = await client.fineTuning.jobs.retrieve(job.id)
  }
  await printNewEvents()
  say(`job ${current.status}${current.error ? `: ${current.error.message}` : ''}`)
  if (current.fine_tuned_model) {
    const artifacts = await client.get<{ data: { name: string; bytes: number }[] }>(`/models/${current.fine_tuned_model}/artifacts`)
    say(`model ${current.fine_tuned_model}; artifacts (GET ${baseURL}/v1/models/${current.fine_tuned_model}/artifacts/NAME):`)
    for (const a of artifacts.data) say(`  ${a.name} (${a.bytes} bytes)`)
  }
  say('The service keeps running; Ctrl-C stops it.')
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})

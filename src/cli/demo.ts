// `npm run demo`: starts Skillet on embedded defaults and runs a whole fine-tuning job against it
// with the official openai SDK — upload the shipped example dataset, create a job on the demo base
// model with every hyperparameter left to "auto", follow its events, show how far the training loss
// fell, list the new model and its artifacts, and say what to do next. The service keeps running
// afterwards (Ctrl-C stops it).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import OpenAI from 'openai'
import { generateApiKey } from '../auth/api-keys.ts'
import { DEMO_MODEL_ID, loadConfig } from '../config/index.ts'
import { EXAMPLE_DATASET_PATH } from '../models/demo-dataset.ts'

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

async function waitForHealth(baseURL: string, child: ReturnType<typeof spawn>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`)
    if (await fetch(`${baseURL}/healthz`).then((r) => r.ok, () => false)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('the server did not become healthy within 2 minutes')
}

async function main(): Promise<void> {
  const started = Date.now()
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

  say(`Skillet is up at ${baseURL} after ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const file = await client.files.create({ file: fs.createReadStream(EXAMPLE_DATASET_PATH), purpose: 'fine-tune' })
  const processed = await client.files.waitForProcessing(file.id)
  say(`uploaded ${path.relative(process.cwd(), EXAMPLE_DATASET_PATH)} as ${file.id} (${processed.bytes} bytes): ${processed.status}`)

  // Every hyperparameter "auto": what a newcomer's first job gets (see the README's rule).
  const job = await client.fineTuning.jobs.create({ model: DEMO_MODEL_ID, training_file: file.id, suffix: 'demo' })
  say(`created ${job.id} on ${DEMO_MODEL_ID}; events:`)
  const seen = new Set<string>()
  const losses = new Map<number, number>()
  /** Prints the events not seen yet (oldest first, metrics kept for the loss summary rather than printed). */
  const sayEvents = async () => {
    const fresh = []
    for await (const event of client.fineTuning.jobs.listEvents(job.id, { limit: 100 })) {
      if (seen.has(event.id)) break // newest first: everything older was seen already
      fresh.push(event)
    }
    for (const event of fresh.reverse()) {
      seen.add(event.id)
      const data = event.data as { step?: number; train_loss?: number } | null
      if (event.type !== 'metrics') say(`  [${event.level}] ${event.message}`)
      else if (data?.step !== undefined && data.train_loss !== undefined) losses.set(data.step, data.train_loss)
    }
  }
  let current = job
  while (!TERMINAL.has(current.status)) {
    await sayEvents()
    await new Promise((r) => setTimeout(r, 500))
    current = await client.fineTuning.jobs.retrieve(job.id)
  }
  await sayEvents()
  say(`job ${current.status} ${((Date.now() - started) / 1000).toFixed(1)} s after the command${current.error ? `: ${current.error.message}` : ''}`)
  const steps = [...losses.keys()].sort((a, b) => a - b)
  if (steps.length > 1) {
    const last = steps.slice(-10).map((s) => losses.get(s)!)
    const end = last.reduce((a, b) => a + b, 0) / last.length
    say(`training loss ${losses.get(steps[0])!.toFixed(2)} at step 1 → ${end.toFixed(2)} over the last ${last.length} of ${steps.length} steps`)
  }
  if (current.fine_tuned_model) {
    const artifacts = await client.get<{ data: { name: string; bytes: number }[] }>(`/models/${current.fine_tuned_model}/artifacts`)
    say(`model ${current.fine_tuned_model}; artifacts (GET ${baseURL}/v1/models/${current.fine_tuned_model}/artifacts/NAME):`)
    for (const a of artifacts.data) say(`  ${a.name} (${a.bytes} bytes)`)
    // What fine-tuning changed: the same held-out prompt to the base model and to the new one.
    const prompt = 'Repeat paper'
    const answer = async (model: string) => {
      const reply = await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 12, temperature: 0 })
      return JSON.stringify(reply.choices[0]?.message.content ?? '')
    }
    say(`"${prompt}" (not in the dataset), POST ${baseURL}/v1/chat/completions:`)
    say(`  ${DEMO_MODEL_ID} answers ${await answer(DEMO_MODEL_ID)}`)
    say(`  ${current.fine_tuned_model} answers ${await answer(current.fine_tuned_model)}`)
  }
  say('')
  say('Next:')
  say(`  export SKILLET_API_KEY=${config.apiKey ? '…   # the key you set' : apiKey}`)
  say(`  curl -s ${baseURL}/v1/fine_tuning/jobs -H "Authorization: Bearer $SKILLET_API_KEY"`)
  say(`  Dashboard: ${baseURL}/ (sign in with the key); API docs: ${baseURL}/docs (OpenAPI: ${baseURL}/openapi.json).`)
  say("  The README's examples work against this server as they are.")
  say(`  \`npm start\` later serves the same data dir (${path.resolve(config.dataDir)}), its jobs, models and this key.`)
  say('The service keeps running; Ctrl-C stops it.')
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})

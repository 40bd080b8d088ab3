// The stand-alone CLI end to end on a tiny HF-format model written to disk: LoRA writes a
// PEFT adapter, full fine-tuning writes a model directory the loader reads back, DPO runs.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'

const CLI = join(import.meta.dirname, '../../src/cli/train.ts')

t.test('train CLI: lora, full and dpo on a tiny qwen2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skillet-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const modelDir = join(dir, 'base')
  await makeTinyModel({ architecture: 'qwen2', dir: modelDir, hiddenSize: 32, numLayers: 1, vocabSize: 384 })
  const sft = Array.from({ length: 12 }, (_, i) => JSON.stringify({ messages: [
    { role: 'user', content: `say ${i}` }, { role: 'assistant', content: `number ${i}` }] })).join('\n')
  const dpo = Array.from({ length: 6 }, (_, i) => JSON.stringify({
    input: { messages: [{ role: 'user', content: `hi ${i}` }] },
    preferred_output: [{ role: 'assistant', content: 'hello there' }],
    non_preferred_output: [{ role: 'assistant', content: 'go away' }] })).join('\n')
  await writeFile(join(dir, 'sft.jsonl'), sft)
  await writeFile(join(dir, 'dpo.jsonl'), dpo)

  const run = (method: string, data: string) => spawnSync(process.execPath, [CLI, '--model', modelDir, '--data', join(dir, data),
    '--validation', join(dir, data), '--out', join(dir, method), '--method', method, '--epochs', '2', '--batch-size', '4', '--backend', 'wasm'],
  { encoding: 'utf8' })

  const lora = run('lora', 'sft.jsonl')
  t.equal(lora.status, 0, lora.stderr)
  const lines = lora.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; validLoss?: number })
  t.equal(lines.filter((l) => l.type === 'step').length, 6, '3 batches × 2 epochs, reported as JSON lines (stdout is not a TTY)')
  t.equal(lines.filter((l) => l.type === 'eval').length, 6, 'a validation point at every step of a 6-step run')
  t.same((await readdir(join(dir, 'lora', 'adapter'))).sort(), ['adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json', 'tokenizer_config.json'], 'the adapter and the tokenizer files, as PEFT and tokenizer.save_pretrained write them')

  const full = run('full', 'sft.jsonl')
  t.equal(full.status, 0, full.stderr)
  const reloaded = await loadModelDir(join(dir, 'full', 'model'))
  t.equal(reloaded.config.architecture, 'qwen2', 'the written model loads back')

  const pref = run('dpo', 'dpo.jsonl')
  t.equal(pref.status, 0, pref.stderr)
  t.match(pref.stderr, /trainer backend: wasm/)
})

// Mistral (MistralForCausalLM) with sliding-window attention, on a tiny generated model whose
// window (8) is shorter than the sequence (20 tokens): the trainer's forward pass matches a plain
// reference that attends to the last `sliding_window` keys only, as transformers does. The GGUF is
// written as llama.cpp's converter writes Mistral (`llama`, no window key): the bundled
// llama.cpp's llama graph has no sliding window, so there it matches the reference exactly up to
// the window and full attention beyond -- asserted, so the README's statement stays true.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { exportGguf } from '../../src/trainer/export/gguf.ts'
import { llamaCppLogits } from '../../src/trainer/export/llama-cpp-logits.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { forwardLogits } from '../../src/trainer/model/forward.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { compareLogits, sampleTokens } from './helpers/compare-logits.ts'
import { checkGoldenCases } from './helpers/golden-gguf.ts'
import { referenceLogits } from './helpers/reference-forward.ts'

const WINDOW = 8
const POSITIONS = 20

t.test('mistral: sliding window in the trainer = reference; llama.cpp agrees up to the window', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'mistral', dir, seed: 9, initStd: 0.1, slidingWindow: WINDOW })
  const model = await loadModelDir(dir)
  t.match(model.config, { architecture: 'llama', hfArchitecture: 'MistralForCausalLM', slidingWindow: WINDOW })
  const tokens = sampleTokens(POSITIONS, model.config.vocabSize)
  const windowed = referenceLogits(model.config, model.weights, tokens)
  const full = referenceLogits({ ...model.config, slidingWindow: null }, model.weights, tokens)
  const within = compareLogits(windowed.slice(0, WINDOW), full.slice(0, WINDOW))
  t.equal(within.maxAbsDiff, 0, 'the window changes nothing while the sequence fits in it')
  const beyond = compareLogits(windowed.slice(WINDOW), full.slice(WINDOW))
  t.ok(beyond.maxAbsDiff > 1e-2, `beyond the window it does (${beyond.maxAbsDiff}): the comparisons below are not vacuous`)

  await selectBackend('cpu')
  const weights = ModelWeights.fromHost(model.config, model.weights, { trainable: false })
  t.teardown(() => weights.dispose())
  const logits = forwardLogits(weights, { ids: Int32Array.from(tokens), attentionMask: new Int32Array(POSITIONS).fill(1), batchSize: 1, seqLen: POSITIONS })
  const values = (await logits.data()) as Float32Array
  logits.dispose()
  const V = model.config.vocabSize
  const trainer = tokens.map((_, i) => values.subarray(i * V, (i + 1) * V))
  const trainerDiff = compareLogits(trainer, windowed)
  t.ok(trainerDiff.maxAbsDiff < 1e-5, `trainer = sliding-window reference at all ${POSITIONS} positions (max diff ${trainerDiff.maxAbsDiff})`)

  await exportGguf(model, join(dir, 'model.gguf'), { dtype: 'F32' })
  const cpp = await llamaCppLogits(join(dir, 'model.gguf'), tokens)
  const cppWithin = compareLogits(cpp.slice(0, WINDOW), trainer.slice(0, WINDOW))
  t.ok(cppWithin.maxAbsDiff < 1e-4, `llama.cpp = trainer up to the window (max diff ${cppWithin.maxAbsDiff})`)
  const cppFull = compareLogits(cpp, full)
  t.ok(cppFull.maxAbsDiff < 1e-4, `llama.cpp's llama graph attends to every earlier token beyond it (max diff to full attention ${cppFull.maxAbsDiff})`)
})

t.test('mistral GGUF exports match the reference (F32 / F16 / Q8_0) where llama.cpp and the window agree', async (t) => {
  const dir = t.testdir()
  // A window longer than the golden sequence: what llama.cpp computes is the model.
  await makeTinyModel({ architecture: 'mistral', dir: join(dir, 'model'), seed: 7, initStd: 0.1, slidingWindow: 4096 })
  const model = await loadModelDir(join(dir, 'model'))
  await checkGoldenCases(t, dir, [{ label: 'mistral (GQA 4/2, untied, SentencePiece)', model, reference: (tokens) => referenceLogits(model.config, model.weights, tokens) }])
})

t.test('mistral: LoRA trains under the window with the Llama target names', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'mistral', dir: join(dir, 'base'), hiddenSize: 32, numLayers: 1, vocabSize: 384, seed: 3, initStd: 0.1, slidingWindow: 4 })
  await writeFile(join(dir, 'sft.jsonl'), Array.from({ length: 12 }, (_, i) => JSON.stringify({ messages: [
    { role: 'user', content: `say ${i}` }, { role: 'assistant', content: `number ${i}` }] })).join('\n'))
  const run = spawnSync(process.execPath, [join(import.meta.dirname, '../../src/cli/train.ts'), '--model', join(dir, 'base'), '--data', join(dir, 'sft.jsonl'),
    '--out', join(dir, 'out'), '--method', 'lora', '--epochs', '3', '--batch-size', '4', '--lr', '0.01', '--dropout', '0', '--backend', 'wasm'], { encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  const steps = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; trainLoss: number }).filter((l) => l.type === 'step')
  const epochLoss = (e: number) => steps.slice(3 * e, 3 * e + 3).reduce((sum, s) => sum + s.trainLoss, 0) / 3
  t.ok(epochLoss(2) < epochLoss(0), `the mean training loss falls (${epochLoss(0)} → ${epochLoss(2)})`)
  const config = JSON.parse(await readFile(join(dir, 'out', 'adapter', 'adapter_config.json'), 'utf8'))
  t.same(config.target_modules, ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'])
})

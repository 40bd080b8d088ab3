// A LEARNING test on a real tiny model, through to llama.cpp: LoRA fine-tuning teaches the
// generated tiny Llama (byte-level BPE tokenizer, ChatML template) a fixed reply format it cannot
// produce before — user "Repeat the first of: W1 W2 W3" → assistant "Word: W1." — and it then
// answers held-out prompts (word combinations never trained on) by greedy decoding. The merged
// model is exported to an F32 GGUF through the product's export path, and llama.cpp's greedy
// answer to every held-out prompt is the trainer's own, token for token; its Q4_0 and Q4_K_M
// GGUFs give F16's answers, within a perplexity bound.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { llamaCppGenerate } from '../../src/trainer/export/llama-cpp-logits.ts'
import { writeOutputs } from '../../src/trainer/run/write-outputs.ts'
import { ask, exactMatch, HELD_OUT as heldOut, learnTask, QUANTIZED_PERPLEXITY_BOUND, scoreInLlamaCpp, WORDS } from './helpers/learn-task.ts'

t.test('LoRA learns a reply format on a tiny BPE model, and its GGUF answers the same in llama.cpp', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skillet-learn-gguf-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await selectBackend('wasm')
  const { model, tokenizer, trainer, result, steps, prompts, expected, before, answers: ours, seconds } = await learnTask(dir)
  const eos = tokenizer.eosTokenId!
  t.same(WORDS.filter((w) => tokenizer.encode(` ${w}`, { addSpecialTokens: false }).length !== 1), [], 'every word is one token')
  const after = exactMatch(ours, expected)
  t.ok(heldOut.length >= 50, `${heldOut.length} held-out prompts, none seen in training`)
  t.ok(before <= 0.1, `before training: ${(before * 100).toFixed(1)}% exact match`)
  t.ok(after >= 0.9, `after training: ${(after * 100).toFixed(1)}% exact match (${seconds.toFixed(1)} s, ${steps.length} steps)`)
  t.ok(steps.at(-1)!.trainLoss < steps[0].trainLoss / 3, `loss fell from ${steps[0].trainLoss.toFixed(3)} to ${steps.at(-1)!.trainLoss.toFixed(3)}`)
  t.comment(`e.g. ${JSON.stringify(ask(heldOut[0]))} → ${JSON.stringify(tokenizer.decode(ours[0]))}`)

  // The product's export: base + adapter merged, written as GGUFs (F32 first).
  const types = ['F32', 'F16', 'Q4_0', 'Q4_K_M'] as const
  const written = await writeOutputs(dir, model, result, { adapter: false, merged: false, gguf: [...types], name: 'learn-task', baseModelName: 'learn-task' })
  const gguf = written.ggufPaths[0]
  trainer.dispose()
  t.equal(tf.memory().numTensors, 0, 'nothing left allocated after dispose')

  // llama.cpp's greedy answers under every file, and its perplexity on the held-out answers.
  t.ok(ours.every((answer) => answer.at(-1) === eos), 'every answer of ours ends at EOS')
  const exportStarted = performance.now()
  const scores = await scoreInLlamaCpp(written.ggufPaths, prompts, ours)
  const theirs = scores[0].greedy
  const disagreements = theirs.map((answer, i) => answer.join() === ours[i].join() ? null : { prompt: ask(heldOut[i]), ours: tokenizer.decode(ours[i]), theirs: tokenizer.decode(answer) }).filter((d) => d)
  t.same(disagreements, [], `llama.cpp's greedy answers equal the trainer's on all ${prompts.length} held-out prompts`)
  t.equal(exactMatch(theirs, expected), after, `llama.cpp's exact match is the trainer's: ${(exactMatch(theirs, expected) * 100).toFixed(1)}%`)

  // The 4-bit files answer as F16 does, within a perplexity bound of it (64-wide rows are no
  // 256-value super-block, so this Q4_K_M is llama-quantize's fallback mix of Q5_0 and Q8_0;
  // gguf-quantized.test.ts covers real Q4_K / Q6_K tensors).
  const f16 = scores[1]
  t.same(f16.greedy, ours, 'F16: the same answers')
  for (const [k, type] of types.entries()) {
    if (type === 'F32' || type === 'F16') continue
    const differing = scores[k].greedy.filter((a, i) => a.join() !== f16.greedy[i].join()).length
    t.equal(differing, 0, `${type}: the same greedy answers as F16 on all ${prompts.length} held-out prompts`)
    const ratio = scores[k].perplexity / f16.perplexity
    t.ok(ratio <= QUANTIZED_PERPLEXITY_BOUND[type], `${type}: perplexity on the held-out answers ${scores[k].perplexity.toFixed(4)} vs F16 ${f16.perplexity.toFixed(4)} (×${ratio.toFixed(4)} ≤ ×${QUANTIZED_PERPLEXITY_BOUND[type]})`)
  }

  // And llama.cpp's own sampler (temperature 0, stopping at its end-of-generation token) agrees.
  const generated = await llamaCppGenerate(gguf, prompts[0], expected[0].length + 1)
  t.same(generated, ours[0].slice(0, -1), `llama.cpp generates ${JSON.stringify(tokenizer.decode(generated))} and stops at EOS`)
  t.comment(`llama.cpp checks took ${((performance.now() - exportStarted) / 1000).toFixed(1)} s`)
})

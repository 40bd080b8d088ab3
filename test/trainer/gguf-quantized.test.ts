// Q4_0 and Q4_K_M exports with real K-quant tensors, in llama.cpp. The tiny Llama here is 256
// wide (ffn 512) so that its rows are whole 256-value super-blocks and Q4_K_M really holds Q4_K
// and Q6_K tensors (narrower rows fall back to Q5_0 / Q8_0, as llama-quantize does; the 64-wide
// model that fully learns the task is checked in learn-task-gguf.test.ts). A few epochs on the
// learning task make its answers confident (the reply format; not yet the copied word). Each
// file loads; its tensor types are the mix; its greedy answers to every held-out prompt are the
// F16 file's; its perplexity on the held-out answers stays within a bound of F16's.
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { readGgufFileInfo } from 'node-llama-cpp'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import type { GgufFileType } from '../../src/trainer/export/gguf.ts'
import { writeOutputs } from '../../src/trainer/run/write-outputs.ts'
import { learnTask, QUANTIZED_PERPLEXITY_BOUND, scoreInLlamaCpp } from './helpers/learn-task.ts'

t.test('Q4_0 and Q4_K_M GGUFs answer as F16 does in llama.cpp, within a perplexity bound', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skillet-gguf-q4-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await selectBackend('wasm')
  const task = await learnTask(dir, { model: { hiddenSize: 256, intermediateSize: 512, numHeads: 4, initStd: 0.05 }, epochs: 2, learningRate: 1e-2 })
  // 30 of the held-out prompts: four files × every prompt is minutes of llama.cpp on a loaded machine.
  const prompts = task.prompts.slice(0, 30)
  const answers = task.answers.slice(0, 30)
  const { steps } = task
  t.ok(steps.at(-1)!.trainLoss < steps[0].trainLoss / 2, `${task.seconds.toFixed(1)} s of training: loss fell from ${steps[0].trainLoss.toFixed(3)} to ${steps.at(-1)!.trainLoss.toFixed(3)}`)

  const types = ['F16', 'Q8_0', 'Q4_K_M', 'Q4_0'] as const satisfies GgufFileType[]
  const paths: Record<string, string> = {}
  for (const type of types) paths[type] = (await writeOutputs(join(dir, type), task.model, task.result, { adapter: false, merged: false, gguf: [type], name: 'q-test', baseModelName: 'q-test' })).ggufPaths[0]
  task.trainer.dispose()

  const info = await readGgufFileInfo(paths.Q4_K_M, { readTensorInfo: true, sourceType: 'filesystem', logWarnings: false })
  const meta = info.metadata as any
  t.match(meta.general, { file_type: 15, quantization_version: 2, type: 'model' }, 'Q4_K_M: LLAMA_FTYPE_MOSTLY_Q4_K_M, quantization version 2')
  t.match(meta.llama.attention, { key_length: 64, value_length: 64 }, 'head_dim in config.json → key/value lengths, as the converter writes')
  const typeOf = new Map(info.fullTensorInfo!.map((x) => [x.name, x.ggmlType]))
  t.same(
    ['output.weight', 'token_embd.weight', 'blk.0.attn_v.weight', 'blk.1.attn_v.weight', 'blk.0.ffn_down.weight', 'blk.1.ffn_down.weight', 'blk.0.attn_q.weight', 'blk.0.attn_norm.weight'].map((n) => typeOf.get(n)),
    [14, 12, 12, 14, 12, 14, 12, 0],
    'Q6_K output, Q4_K token_embd, Q6_K attn_v and ffn_down of the last layer, Q4_K elsewhere, F32 norms',
  )
  const q40 = await readGgufFileInfo(paths.Q4_0, { readTensorInfo: true, sourceType: 'filesystem', logWarnings: false })
  t.equal((q40.metadata as any).general.file_type, 2)
  t.same(new Set(q40.fullTensorInfo!.filter((x) => x.dimensions.length === 2).map((x) => x.ggmlType)), new Set([2, 14]), 'Q4_0 everywhere but the Q6_K output')
  const sizes = Object.fromEntries(await Promise.all(types.map(async (type) => [type, (await stat(paths[type])).size])))
  t.ok(sizes.Q4_K_M < sizes.Q8_0 && sizes.Q4_0 < sizes.Q4_K_M, `sizes: ${types.map((type) => `${type} ${(sizes[type] / 1024).toFixed(0)} KiB`).join(', ')}`)

  const scores = await scoreInLlamaCpp(types.map((type) => paths[type]), prompts, answers)
  const f16 = scores[0]
  t.same(f16.greedy, answers, `F16: llama.cpp's greedy answers are the trainer's on all ${prompts.length} held-out prompts`)
  for (const [k, type] of types.entries()) {
    if (type === 'F16') continue
    const differing = scores[k].greedy.filter((a, i) => a.join() !== f16.greedy[i].join()).length
    t.equal(differing, 0, `${type}: the same greedy answers as F16 on all ${prompts.length} held-out prompts`)
    const ratio = scores[k].perplexity / f16.perplexity
    t.ok(ratio <= QUANTIZED_PERPLEXITY_BOUND[type], `${type}: perplexity on the held-out answers ${scores[k].perplexity.toFixed(4)} vs F16 ${f16.perplexity.toFixed(4)} (×${ratio.toFixed(4)} ≤ ×${QUANTIZED_PERPLEXITY_BOUND[type]})`)
  }
})

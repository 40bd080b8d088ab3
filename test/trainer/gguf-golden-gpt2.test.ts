// llama.cpp on our GPT-2 GGUF export vs the reference forward pass. llama.cpp's CPU GELU reads a
// half-precision lookup table (GGML_GELU_FP16), so the MLP alone differs by ~1e-3 from exact GELU.
// Two cases separate that from the export: with the MLP output projection zeroed (GELU cannot
// reach the logits) everything else must agree to 1e-4; with the full MLP, to 3e-3 -- far below
// what any transposition or naming mistake in c_fc / c_proj would produce (order 1).
import t from 'tap'
import { join } from 'node:path'
import { makeTinyModel } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { referenceLogits } from './helpers/reference-forward.ts'
import { checkGoldenCases, type GoldenCase } from './helpers/golden-gguf.ts'

t.test('GPT-2 export: llama.cpp logits match the reference', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'gpt2', dir: join(dir, 'model'), seed: 7, initStd: 0.1 })
  const full = await loadModelDir(join(dir, 'model'))
  const noMlp = await loadModelDir(join(dir, 'model'))
  for (let l = 0; l < noMlp.config.numLayers; l++) noMlp.weights.get(`transformer.h.${l}.mlp.c_proj.weight`)!.data.fill(0)
  const cases: GoldenCase[] = [
    { label: 'gpt2 without MLP output', model: noMlp, reference: (tokens) => referenceLogits(noMlp.config, noMlp.weights, tokens) },
    { label: 'gpt2 full', model: full, reference: (tokens) => referenceLogits(full.config, full.weights, tokens), f32Tolerance: 3e-3 },
  ]
  await checkGoldenCases(t, dir, cases)
})

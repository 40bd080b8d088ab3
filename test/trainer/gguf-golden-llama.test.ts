// llama.cpp, running our GGUF export of each tiny Llama/Qwen2 model, must compute the same logits
// as a plain reference forward pass over the original Hugging Face weights.
import t from 'tap'
import { join } from 'node:path'
import { makeTinyModel, type TinyModelOptions } from '../../src/trainer/tiny/make-tiny-model.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { referenceLogits } from './helpers/reference-forward.ts'
import { compareLogits, sampleTokens } from './helpers/compare-logits.ts'
import { checkGoldenCases, GOLDEN_POSITIONS, type GoldenCase } from './helpers/golden-gguf.ts'

// Llama-3 scaling with original_max_position_embeddings small enough that, at head_dim 16 and
// theta 10000, the low, medium (smoothed) and high frequency bands all occur.
const LLAMA3_SCALING = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 }

const variants: { label: string; options: Omit<TinyModelOptions, 'dir'> }[] = [
  { label: 'llama (GQA 4/2, untied lm_head)', options: { architecture: 'llama' } },
  { label: 'qwen2 (q/k/v bias, GQA, tied)', options: { architecture: 'qwen2' } },
  { label: 'llama + Llama-3 rope_scaling', options: { architecture: 'llama', ropeTheta: 10000, ropeScaling: LLAMA3_SCALING } },
]

t.test('llama.cpp logits on F32 / F16 / Q8_0 exports match the reference forward pass', async (t) => {
  const dir = t.testdir()
  const cases: GoldenCase[] = []
  for (const [i, { label, options }] of variants.entries()) {
    // initStd 0.1 gives logits of order 1, so argmax comparisons mean something.
    await makeTinyModel({ ...options, dir: join(dir, `model${i}`), seed: 7, initStd: 0.1 })
    const model = await loadModelDir(join(dir, `model${i}`))
    cases.push({ label, model, reference: (tokens) => referenceLogits(model.config, model.weights, tokens) })
  }
  await checkGoldenCases(t, dir, cases)
})

t.test('the Llama-3 rope_scaling changes the logits (so the scaled case above is not vacuous)', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'llama', dir, seed: 7, initStd: 0.1, ropeTheta: 10000 })
  const plain = await loadModelDir(dir)
  const scaled = { ...plain.config, ropeScaling: { type: 'llama3' as const, ...LLAMA3_SCALING } }
  const tokens = sampleTokens(GOLDEN_POSITIONS, plain.config.vocabSize)
  const diff = compareLogits(referenceLogits(scaled, plain.weights, tokens), referenceLogits(plain.config, plain.weights, tokens))
  t.ok(diff.maxAbsDiff > 1e-2, `scaling moves logits by ${diff.maxAbsDiff}`)
})

// Phi-3 (Phi3ForCausalLM: fused qkv_proj and gate_up_proj, longrope) end to end on tiny generated
// models in the real HF format: llama.cpp, running our `phi3` GGUF export, computes the logits of
// a plain reference forward pass over the HF weights, and so does the trainer's own forward pass.
import t from 'tap'
import { join } from 'node:path'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { exportGguf, loadableName } from '../../src/trainer/export/gguf.ts'
import { llamaCppLogits } from '../../src/trainer/export/llama-cpp-logits.ts'
import { loadModelDir } from '../../src/trainer/io/load-model.ts'
import { forwardLogits } from '../../src/trainer/model/forward.ts'
import { ModelWeights } from '../../src/trainer/model/weights.ts'
import { makeTinyModel, type TinyModelOptions } from '../../src/trainer/tiny/make-tiny-model.ts'
import { compareLogits, sampleTokens } from './helpers/compare-logits.ts'
import { checkGoldenCases, GOLDEN_POSITIONS, type GoldenCase } from './helpers/golden-gguf.ts'
import { referenceLogits } from './helpers/reference-forward.ts'

// head_dim 16: eight factors per list. llama.cpp pads its context to 256 and takes the long
// factors when that exceeds the original length, transformers when the sequence does: with an
// original length of 256, 20 tokens use the short factors in both, 300 tokens the long ones.
const LONGROPE = {
  shortFactor: [1, 1.1, 1.3, 1.6, 2, 2.5, 3, 4],
  longFactor: [1, 1.5, 2.5, 4, 7, 12, 20, 32],
  originalMaxPositionEmbeddings: 256,
}
const LONG_POSITIONS = 300

const variants: { label: string; options: Omit<TinyModelOptions, 'dir'>; positions?: number }[] = [
  { label: 'phi3 (GQA 4/2, untied)', options: { architecture: 'phi3' } },
  { label: 'phi3 + longrope, short factors', options: { architecture: 'phi3', maxPositions: 1024, longRope: LONGROPE } },
  { label: 'phi3 + longrope, long factors', options: { architecture: 'phi3', maxPositions: 1024, longRope: LONGROPE }, positions: LONG_POSITIONS },
]

t.test('llama.cpp logits on F32 / F16 / Q8_0 phi3 exports match the reference forward pass', async (t) => {
  const dir = t.testdir()
  const cases: GoldenCase[] = []
  for (const [i, { label, options, positions }] of variants.entries()) {
    await makeTinyModel({ ...options, dir: join(dir, `model${i}`), seed: 5, initStd: 0.1 })
    const model = await loadModelDir(join(dir, `model${i}`))
    cases.push({ label, model, positions, reference: (tokens) => referenceLogits(model.config, model.weights, tokens) })
  }
  t.equal(cases[1].model.config.ropeScaling?.type, 'longrope')
  await checkGoldenCases(t, dir, cases)
})

t.test('the trainer forward pass matches llama.cpp on the phi3 F32 GGUF (short and long rope factors)', async (t) => {
  const dir = t.testdir()
  await selectBackend('cpu')
  await makeTinyModel({ architecture: 'phi3', dir, seed: 6, initStd: 0.1, maxPositions: 1024, longRope: LONGROPE })
  const model = await loadModelDir(dir)
  // A general.name with "phi3" in it makes llama.cpp look up Phi-3's special tokens by text.
  await exportGguf(model, join(dir, 'model.gguf'), { dtype: 'F32', name: 'tiny-phi3' })
  const weights = ModelWeights.fromHost(model.config, model.weights, { trainable: false })
  t.teardown(() => weights.dispose())
  for (const positions of [GOLDEN_POSITIONS, LONG_POSITIONS]) {
    const tokens = sampleTokens(positions, model.config.vocabSize)
    const logits = forwardLogits(weights, { ids: Int32Array.from(tokens), attentionMask: new Int32Array(positions).fill(1), batchSize: 1, seqLen: positions })
    const values = (await logits.data()) as Float32Array
    logits.dispose()
    const V = model.config.vocabSize
    const trainer = Array.from({ length: positions }, (_, i) => values.subarray(i * V, (i + 1) * V))
    const diff = compareLogits(await llamaCppLogits(join(dir, 'model.gguf'), tokens), trainer)
    t.ok(diff.maxAbsDiff < 1e-4, `${positions} tokens: max abs diff ${diff.maxAbsDiff} < 1e-4`)
    t.equal(diff.argmaxAgreement, positions, `${positions} tokens: argmax identical everywhere`)
  }
})

t.test('longrope really matters: plain RoPE, and the short factors on a long sequence, give other logits', async (t) => {
  const dir = t.testdir()
  await makeTinyModel({ architecture: 'phi3', dir, seed: 5, initStd: 0.1, maxPositions: 1024, longRope: LONGROPE })
  const model = await loadModelDir(dir)
  const rs = model.config.ropeScaling!
  if (rs.type !== 'longrope') throw new Error('expected longrope')
  const tokens = sampleTokens(LONG_POSITIONS, model.config.vocabSize)
  const scaled = referenceLogits(model.config, model.weights, tokens)
  const plain = compareLogits(scaled, referenceLogits({ ...model.config, ropeScaling: null }, model.weights, tokens))
  t.ok(plain.maxAbsDiff > 1e-2, `vs plain RoPE: logits move by ${plain.maxAbsDiff}`)
  const shortOnly = { ...model.config, ropeScaling: { ...rs, originalMaxPositionEmbeddings: 4096 } }
  const short = compareLogits(scaled, referenceLogits(shortOnly, model.weights, tokens))
  t.ok(short.maxAbsDiff > 1e-2, `vs the short factors: logits move by ${short.maxAbsDiff}`)
})

t.test('a GGUF named after Phi-3 still loads in llama.cpp when its vocabulary lacks Phi-3\'s special tokens', async (t) => {
  t.equal(loadableName('ft:tiny-phi3:p:x', ['<unk>', '<s>', '</s>', '<|endoftext|>']), 'ft:tiny-phi3:p:x', 'a Phi-3 vocabulary keeps the name')
  t.equal(loadableName('Phi-3-custom phi3', ['<|endoftext|>']), 'Phi 3-custom phi 3', 'otherwise the word is split')
  t.equal(loadableName('llama-tiny', []), 'llama-tiny')
  const dir = t.testdir()
  // A SentencePiece Llama has <unk> <s> </s> but no <|endoftext|>: under a phi3 name llama.cpp would refuse it.
  await makeTinyModel({ architecture: 'llama', tokenizer: 'sentencepiece', dir, seed: 5, initStd: 0.1 })
  const model = await loadModelDir(dir)
  await exportGguf(model, join(dir, 'model.gguf'), { dtype: 'F32', name: 'my-phi3-copy' })
  const tokens = sampleTokens(8, model.config.vocabSize)
  const diff = compareLogits(await llamaCppLogits(join(dir, 'model.gguf'), tokens), referenceLogits(model.config, model.weights, tokens))
  t.ok(diff.maxAbsDiff < 1e-4, `loads and computes the reference logits (max diff ${diff.maxAbsDiff})`)
})

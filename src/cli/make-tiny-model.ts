// Writes a tiny, randomly initialised model in real Hugging Face format, for tests and demos.
//   node src/cli/make-tiny-model.ts --arch llama|mistral|qwen2|phi3|gemma2|gpt2 --out /tmp/tiny-llama [--seed 0] [--hidden 64]
//     [--layers 2] [--heads 4] [--kv-heads 2] [--intermediate 128] [--vocab 512]
//     [--max-positions 256] [--init-std 0.02] [--tie] [--rope-theta 500000]
//     [--llama3-rope-factor 8 --original-max-positions 64] [--tokenizer byte-level|sentencepiece]
//     [--sliding-window 16]  (mistral, phi3, gemma2)
import { parseArgs } from 'node:util'
import { makeTinyModel, TINY_FAMILIES, type TinyFamily } from '../trainer/tiny/make-tiny-model.ts'

const { values } = parseArgs({
  options: {
    arch: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    hidden: { type: 'string' },
    layers: { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    intermediate: { type: 'string' },
    vocab: { type: 'string' },
    'max-positions': { type: 'string' },
    'init-std': { type: 'string' },
    'rope-theta': { type: 'string' },
    tie: { type: 'boolean' },
    'llama3-rope-factor': { type: 'string' },
    'original-max-positions': { type: 'string' },
    tokenizer: { type: 'string' },
    'sliding-window': { type: 'string' },
  },
})

const architectures = TINY_FAMILIES
const arch = values.arch as TinyFamily | undefined
if (!arch || !architectures.includes(arch) || !values.out) {
  process.stderr.write(`usage: make-tiny-model --arch ${architectures.join('|')} --out DIR [options]\n`)
  process.exit(2)
}
if (values.tokenizer !== undefined && values.tokenizer !== 'byte-level' && values.tokenizer !== 'sentencepiece') {
  process.stderr.write(`--tokenizer must be byte-level or sentencepiece (got ${values.tokenizer})\n`)
  process.exit(2)
}
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
const ropeFactor = num(values['llama3-rope-factor'])

const made = await makeTinyModel({
  architecture: arch,
  dir: values.out,
  seed: num(values.seed),
  hiddenSize: num(values.hidden),
  numLayers: num(values.layers),
  numHeads: num(values.heads),
  numKvHeads: num(values['kv-heads']),
  intermediateSize: num(values.intermediate),
  vocabSize: num(values.vocab),
  maxPositions: num(values['max-positions']),
  initStd: num(values['init-std']),
  ropeTheta: num(values['rope-theta']),
  tieWordEmbeddings: values.tie,
  tokenizer: values.tokenizer as 'byte-level' | 'sentencepiece' | undefined,
  slidingWindow: num(values['sliding-window']),
  ropeScaling:
    ropeFactor === undefined
      ? null
      : { factor: ropeFactor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: num(values['original-max-positions']) ?? 8192 },
})
const parameters = [...made.weights.values()].reduce((n, w) => n + w.data.length, 0)
process.stdout.write(`wrote ${arch} model (${parameters} parameters) to ${made.dir}\n`)

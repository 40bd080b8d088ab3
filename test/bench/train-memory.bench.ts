// Peak memory and step time of LoRA, QLoRA-8, QLoRA-4 and full fine-tuning on the wasm backend,
// each in its own process (a process's RSS never shrinks: the wasm heap only grows, so variants
// run one after another in one process would all report the largest). The host copy of the weights
// is dropped once the trainer holds them, as the service does, and collected (--expose-gc); the
// training peak is the largest RSS sampled after each step. The load peak (host weights and the
// trainer's copy at once) is the same for every variant and is printed beside it. Configs: the bench config of train.bench.ts, and with --135m a ~135M-parameter Llama
// (SmolLM-135M's shape, random weights; slow: minutes per variant).
//
//   node test/bench/train-memory.bench.ts [--135m]      (also run at the end of `npm run bench:train`)
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { LLAMA_LORA_MODULES } from '../../src/trainer/model/lora.ts'
import type { QuantBits } from '../../src/trainer/model/quantised-matrix.ts'
import type { ModelConfig } from '../../src/trainer/model/types.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from '../trainer/model-fixture.ts'

const CONFIGS: Record<string, { config: ModelConfig; T: number; B: number; warmup: number; measured: number; std: number }> = {
  bench: {
    config: tinyConfig('llama', { hiddenSize: 256, numLayers: 4, numHeads: 4, numKvHeads: 4, intermediateSize: 512, vocabSize: 512, maxPositions: 128 }),
    T: 128, B: 8, warmup: 2, measured: 5, std: 0.05,
  },
  '135m': {
    config: tinyConfig('llama', { hiddenSize: 576, numLayers: 30, numHeads: 9, numKvHeads: 3, intermediateSize: 1536, vocabSize: 49152, maxPositions: 2048, tieWordEmbeddings: true }),
    // HF's init std: 0.05 over 30 layers overflows to a NaN gradient.
    T: 128, B: 1, warmup: 1, measured: 2, std: 0.02,
  },
}
const VARIANTS = ['lora', 'qlora-8', 'qlora-4', 'full'] as const
type Variant = (typeof VARIANTS)[number]

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]

async function child(configName: string, variant: Variant): Promise<void> {
  const { config, T, B, warmup, measured, std } = CONFIGS[configName]
  await selectBackend('wasm')
  const rows = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (b * 31 + i * 7) % config.vocabSize))
  const batch = batchOf(rows)
  const host = randomWeights(config, 1, std)
  const parameters = [...host.values()].reduce((n, w) => n + w.data.length, 0)
  const stepMs: number[] = []
  let peakRss = 0
  const baseBits = variant.startsWith('qlora') ? (Number(variant.slice(6)) as QuantBits) : null
  const trainer = new Trainer({
    config,
    weights: host,
    data: { batches: () => Array.from({ length: warmup + measured }, () => batch) },
    options: {
      ...TRAIN_DEFAULTS, method: variant === 'full' ? 'full' : 'lora', epochs: 1, learningRate: 1e-4,
      lora: { rank: 8, alpha: 16, dropout: 0.05, targetModules: [...LLAMA_LORA_MODULES], baseBits },
    },
    reporter: {
      onStep: (m) => {
        stepMs.push(m.stepMs)
        peakRss = Math.max(peakRss, process.memoryUsage().rss)
      },
      onEval() {}, onCheckpoint() {}, onEvent() {},
    },
  })
  const loadRss = process.memoryUsage().rss
  host.clear()
  ;(globalThis as { gc?: () => void }).gc?.()
  await trainer.run()
  console.log(JSON.stringify({ parameters, ms: median(stepMs.slice(warmup)), peakRssMb: peakRss / 2 ** 20, loadRssMb: loadRss / 2 ** 20 }))
}

function parent(configNames: string[]): void {
  const self = fileURLToPath(import.meta.url)
  for (const name of configNames) {
    const { config: c, T, B } = CONFIGS[name]
    console.log(`memory (wasm, one process per variant): ${name} config llama D=${c.hiddenSize} L=${c.numLayers} I=${c.intermediateSize} V=${c.vocabSize} T=${T} B=${B}, LoRA r=8`)
    let loraRss = 0
    for (const variant of VARIANTS) {
      let r: { parameters: number; ms: number; peakRssMb: number; loadRssMb: number }
      try {
        const out = execFileSync(process.execPath, ['--expose-gc', self, '--child', name, variant], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'pipe'] })
        r = JSON.parse(out.trim().split('\n').at(-1)!)
      } catch (err) {
        const why = String((err as { stderr?: string }).stderr ?? err).split('\n').find((l) => /Error/.test(l)) ?? 'failed'
        console.log(`  ${name} ${variant.padEnd(7)}: ${why.trim()}`)
        continue
      }
      if (variant === 'lora') loraRss = r.peakRssMb
      console.log(`  ${name} ${variant.padEnd(7)}: ${(r.parameters / 1e6).toFixed(1)}M parameters, ${r.ms.toFixed(0)} ms/step, peak RSS in training ${r.peakRssMb.toFixed(0)} MB` +
        (variant === 'lora' || !loraRss ? '' : ` (${((r.peakRssMb / loraRss) * 100).toFixed(0)}% of LoRA's)`) + `, at load ${r.loadRssMb.toFixed(0)} MB`)
    }
  }
}

const at = process.argv.indexOf('--child')
if (at > 0) await child(process.argv[at + 1], process.argv[at + 2] as Variant)
else parent(['bench', ...(process.argv.includes('--135m') ? ['135m'] : [])])

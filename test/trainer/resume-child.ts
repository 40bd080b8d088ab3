// Child process for resume-kill.test.ts: trains a tiny model with checkpoints (resuming from
// the newest one if present), prints JSON-lines progress, and writes the final trainable
// tensors to OUT. Usage: node resume-child.ts METHOD CHECKPOINT_DIR OUT_FILE
import { writeFile } from 'node:fs/promises'
import { encodeSafetensors } from '../../src/trainer/io/safetensors.ts'
import { selectBackend } from '../../src/trainer/backend/select-backend.ts'
import { LocalCheckpointStore } from '../../src/trainer/train/checkpoint-store.ts'
import { JsonLinesReporter } from '../../src/trainer/train/reporter.ts'
import { TRAIN_DEFAULTS, Trainer } from '../../src/trainer/train/trainer.ts'
import { batchOf, randomWeights, tinyConfig } from './model-fixture.ts'

const [method, checkpointDir, outFile] = process.argv.slice(2) as ['lora' | 'full', string, string]
await selectBackend('wasm')
const config = tinyConfig('llama', { hiddenSize: 48, numHeads: 4, numKvHeads: 2 })
const rows = Array.from({ length: 24 }, (_, i) => Array.from({ length: 6 + (i % 5) }, (_, j) => (i * 7 + j * 3) % 60 + 1))
// Different batch order per epoch, as a pure function of the epoch.
const batches = (epoch: number) => Array.from({ length: 6 }, (_, k) => {
  const pick = [0, 1, 2, 3].map((r) => rows[(k * 4 + r + epoch * 5) % rows.length])
  return batchOf(pick)
})
const trainer = new Trainer({
  config,
  weights: randomWeights(config, 4, 0.2),
  data: { batches },
  options: {
    ...TRAIN_DEFAULTS, method, epochs: 5, learningRate: 3e-3, warmupRatio: 0.1, decay: 'cosine', gradAccumSteps: 2,
    checkpointEverySteps: 2, adamw: { weightDecay: 0.01 },
    lora: { rank: 4, alpha: 8, dropout: 0.1, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'down_proj'] },
  },
  reporter: new JsonLinesReporter(),
  checkpoints: new LocalCheckpointStore(checkpointDir),
})
await trainer.run()
await writeFile(outFile, encodeSafetensors(await trainer.trainableHost()))

// Stand-alone fine-tuning from the command line, no service needed:
//
//   node src/cli/train.ts --model DIR --data train.jsonl [--validation valid.jsonl] --out DIR
//        [--method lora|full|dpo] [--epochs N|auto] [--batch-size N|auto] [--lr X | --lr-multiplier X|auto]
//        [--rank 8] [--alpha 16] [--dropout 0.05] [--target-modules q_proj,v_proj] [--beta 0.1]
//        [--max-length N] [--grad-accum N] [--seed 42] [--backend auto|tensorflow|webgpu|wasm|cpu]
//
// Data is OpenAI fine-tuning JSONL: {"messages": [...]}, {"prompt", "completion"} or, for dpo,
// {"input", "preferred_output", "non_preferred_output"}. Output: OUT/adapter (PEFT) for lora
// and dpo, OUT/model (HF safetensors) for full; checkpoints in OUT/checkpoints, from which a
// re-run with the same arguments resumes.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseBackendName, selectBackend } from '../trainer/backend/select-backend.ts'
import { makeBatches, padBatch } from '../trainer/data/batching.ts'
import { encodeChat, encodeCompletion, encodePreference } from '../trainer/data/encode-examples.ts'
import type { ChatExample, CompletionExample, EncodedSequence, PreferenceExample } from '../trainer/data/example-types.ts'
import { writeMergedModel } from '../trainer/export/merged-model.ts'
import { writePeftAdapter } from '../trainer/export/peft-adapter.ts'
import { loadModelDir } from '../trainer/io/load-model.ts'
import { defaultLoraTargets } from '../trainer/model/lora.ts'
import { Random } from '../trainer/model/random.ts'
import { TextTokenizer } from '../trainer/tokenizer/text-tokenizer.ts'
import { resolveHyperparameters, type TrainingMethod } from '../trainer/train/auto-hyperparameters.ts'
import { LocalCheckpointStore } from '../trainer/train/checkpoint-store.ts'
import type { PreferenceBatch } from '../trainer/train/dpo-loss.ts'
import { defaultReporter } from '../trainer/train/reporter.ts'
import { TRAIN_DEFAULTS, Trainer, type MicroBatch } from '../trainer/train/trainer.ts'

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    validation: { type: 'string' },
    out: { type: 'string' },
    method: { type: 'string', default: 'lora' },
    epochs: { type: 'string', default: 'auto' },
    'batch-size': { type: 'string', default: 'auto' },
    lr: { type: 'string' },
    'lr-multiplier': { type: 'string', default: 'auto' },
    rank: { type: 'string', default: '8' },
    alpha: { type: 'string', default: '16' },
    dropout: { type: 'string', default: '0.05' },
    'target-modules': { type: 'string' },
    beta: { type: 'string', default: '0.1' },
    'max-length': { type: 'string' },
    'grad-accum': { type: 'string', default: '1' },
    seed: { type: 'string', default: '42' },
    backend: { type: 'string', default: 'auto' },
    'checkpoint-every': { type: 'string', default: '0' },
  },
})

function required(name: keyof typeof args): string {
  const value = args[name]
  if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required`)
  return value
}
const autoOrNumber = (v: string) => (v === 'auto' ? 'auto' as const : Number(v))

async function readJsonl(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8')
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>
    } catch {
      throw new Error(`${path}:${i + 1}: not valid JSON`)
    }
  })
}

function encodeSft(tokenizer: TextTokenizer, rows: Record<string, unknown>[], maxLength: number): EncodedSequence[] {
  return rows.map((row) => 'messages' in row
    ? encodeChat(tokenizer, row as unknown as ChatExample, maxLength)
    : encodeCompletion(tokenizer, row as unknown as CompletionExample, maxLength))
}

/** Preference pairs in a seeded order, batched as [chosen..., rejected...] rows. */
function preferenceBatches(pairs: { chosen: EncodedSequence; rejected: EncodedSequence }[], batchSize: number, seed: number, padId: number): PreferenceBatch[] {
  const sequences = [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)]
  const order = Random.fromSeed(seed).permutation(pairs.length)
  const out: PreferenceBatch[] = []
  for (let i = 0; i < order.length; i += batchSize) {
    const group = order.slice(i, i + batchSize)
    const b = padBatch(sequences, [...group, ...group.map((g) => g + pairs.length)], { padId })
    out.push({ ...b, pairs: group.length })
  }
  return out
}

async function main(): Promise<void> {
  const method = required('method') as TrainingMethod
  if (!['lora', 'full', 'dpo'].includes(method)) throw new Error(`--method must be lora, full or dpo (got ${method})`)
  const outDir = required('out')
  const log = (line: string) => process.stderr.write(line + '\n')
  await selectBackend(parseBackendName(args.backend), log)

  const model = await loadModelDir(required('model'))
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const maxLength = args['max-length'] ? Number(args['max-length']) : Math.min(model.config.maxPositions, 2048)
  const padId = tokenizer.padTokenId
  const trainRows = await readJsonl(required('data'))
  const validRows = args.validation ? await readJsonl(args.validation) : []

  let batchesFor: (epoch: number, batchSize: number) => MicroBatch[]
  let validation: (batchSize: number) => MicroBatch[]
  let tokens = 0
  if (method === 'dpo') {
    const pairs = trainRows.map((r) => encodePreference(tokenizer, r as unknown as PreferenceExample, maxLength))
    const validPairs = validRows.map((r) => encodePreference(tokenizer, r as unknown as PreferenceExample, maxLength))
    tokens = pairs.reduce((n, p) => n + p.chosen.ids.length + p.rejected.ids.length, 0)
    batchesFor = (epoch, batchSize) => preferenceBatches(pairs, batchSize, Number(args.seed) * 1000 + epoch, padId)
    validation = (batchSize) => validPairs.length ? preferenceBatches(validPairs, batchSize, 0, padId) : []
  } else {
    const encoded = encodeSft(tokenizer, trainRows, maxLength)
    const validEncoded = encodeSft(tokenizer, validRows, maxLength)
    tokens = encoded.reduce((n, e) => n + e.ids.length, 0)
    batchesFor = (epoch, batchSize) => makeBatches(encoded, { batchSize, seed: Number(args.seed) * 1000 + epoch, padId })
    validation = (batchSize) => validEncoded.length ? makeBatches(validEncoded, { batchSize, seed: 0, padId }) : []
  }

  const hp = resolveHyperparameters(method, {
    nEpochs: autoOrNumber(args.epochs!),
    batchSize: autoOrNumber(args['batch-size']!),
    learningRateMultiplier: autoOrNumber(args['lr-multiplier']!),
  }, { examples: trainRows.length, tokens })
  const learningRate = args.lr ? Number(args.lr) : hp.learningRate
  log(`hyperparameters: ${hp.nEpochs} epochs, batch size ${hp.batchSize}, learning rate ${learningRate}`)

  const batchCache = new Map<number, MicroBatch[]>()
  const trainer = new Trainer({
    config: model.config,
    weights: model.weights,
    data: {
      batches: (epoch) => {
        if (!batchCache.has(epoch)) batchCache.set(epoch, batchesFor(epoch, hp.batchSize))
        return batchCache.get(epoch)!
      },
      validation: validation(hp.batchSize),
    },
    options: {
      ...TRAIN_DEFAULTS,
      method,
      epochs: hp.nEpochs,
      learningRate,
      gradAccumSteps: Number(args['grad-accum']),
      seed: Number(args.seed),
      dpoBeta: Number(args.beta),
      checkpointEverySteps: Number(args['checkpoint-every']),
      lora: {
        rank: Number(args.rank),
        alpha: Number(args.alpha),
        dropout: Number(args.dropout),
        targetModules: args['target-modules'] ? args['target-modules'].split(',') : defaultLoraTargets(model.config),
      },
    },
    reporter: defaultReporter(),
    checkpoints: new LocalCheckpointStore(join(outDir, 'checkpoints')),
  })
  const result = await trainer.run()

  if (result.lora) {
    const dir = join(outDir, 'adapter')
    await writePeftAdapter(dir, model.config, await result.lora.toHost(), model.dir)
    log(`adapter written to ${dir}`)
  } else {
    const dir = join(outDir, 'model')
    await writeMergedModel(dir, model.config, await result.weights.toHost(), model.dir)
    log(`model written to ${dir}`)
  }
  trainer.dispose()
}

main().catch((err: unknown) => {
  process.stderr.write(`train: ${(err as Error).message}\n`)
  process.exitCode = 1
})

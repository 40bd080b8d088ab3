// Stand-alone fine-tuning from the command line, no service needed:
//
//   node src/cli/train.ts --model DIR --data train.jsonl [--validation valid.jsonl] --out DIR
//        [--method lora|full|dpo] [--epochs N|auto] [--batch-size N|auto] [--lr X | --lr-multiplier X|auto]
//        [--rank 8] [--alpha 16] [--dropout 0.05] [--target-modules q_proj,v_proj] [--beta 0.1]
//        [--max-length N] [--grad-accum N] [--seed 42] [--backend auto|tensorflow|webgpu|wasm|cpu] [--require-gpu]
//        [--checkpoint-every N] [--gguf F16|F32|Q8_0|Q4_0|Q4_K_M[,…]] [--gradient-checkpointing auto|on|off]
//
// --backend, --require-gpu and --gradient-checkpointing default to SKILLET_TRAINER_BACKEND,
// SKILLET_TRAINER_REQUIRE_GPU and SKILLET_TRAINER_GRADIENT_CHECKPOINTING;
// the wasm backend's threads come from SKILLET_TRAINER_THREADS (default: the cores it may use).
//
// Data is OpenAI fine-tuning JSONL: {"messages": [...]}, {"prompt", "completion"} or, for dpo,
// {"input", "preferred_output", "non_preferred_output"}. Output: OUT/adapter (PEFT) for lora
// and dpo, OUT/model (HF safetensors) for full, OUT/model-TYPE.gguf (the merged model) with
// --gguf; checkpoints in OUT/checkpoints, from which a re-run with the same arguments resumes.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { backendSettingsFromEnv, parseBackendName, selectBackend } from '../trainer/backend/select-backend.ts'
import { GGUF_FILE_TYPES, type GgufFileType } from '../trainer/export/gguf.ts'
import { parseGradientCheckpointing } from '../trainer/backend/memory-plan.ts'
import { loadModelDir } from '../trainer/io/load-model.ts'
import { TextTokenizer } from '../trainer/tokenizer/text-tokenizer.ts'
import { learningRateFor, resolveHyperparameters, type TrainingMethod } from '../protocol/auto-hyperparameters.ts'
import { LocalCheckpointStore } from '../trainer/train/checkpoint-store.ts'
import { defaultReporter } from '../trainer/train/reporter.ts'
import { Trainer } from '../trainer/train/trainer.ts'
import { defaultMaxLength, encodeTrainingSet, parseJsonl } from '../trainer/run/training-set.ts'
import { trainOptions } from '../trainer/run/train-options.ts'
import { writeOutputs } from '../trainer/run/write-outputs.ts'

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
    backend: { type: 'string' },
    'require-gpu': { type: 'boolean' },
    'checkpoint-every': { type: 'string', default: '0' },
    'gradient-checkpointing': { type: 'string' },
    gguf: { type: 'string' },
  },
})

function required(name: keyof typeof args): string {
  const value = args[name]
  if (typeof value !== 'string' || value === '') throw new Error(`--${name} is required`)
  return value
}
const autoOrNumber = (v: string) => (v === 'auto' ? 'auto' as const : Number(v))

async function readJsonl(path: string, role: 'training' | 'validation') {
  return parseJsonl(await readFile(path, 'utf8'), role, path)
}

async function main(): Promise<void> {
  const method = required('method') as TrainingMethod
  if (!['lora', 'full', 'dpo'].includes(method)) throw new Error(`--method must be lora, full or dpo (got ${method})`)
  const outDir = required('out')
  const log = (line: string) => process.stderr.write(line + '\n')
  const fromEnv = backendSettingsFromEnv(process.env)
  await selectBackend(args.backend ? parseBackendName(args.backend) : fromEnv.requested, log, { requireGpu: args['require-gpu'] ?? fromEnv.requireGpu, threads: fromEnv.threads, matmul: fromEnv.matmul })

  const gguf = (args.gguf ? args.gguf.toUpperCase().split(',') : []) as GgufFileType[]
  const badGguf = gguf.find((type) => !(GGUF_FILE_TYPES as readonly string[]).includes(type))
  if (badGguf !== undefined) throw new Error(`--gguf takes ${GGUF_FILE_TYPES.join(', ')} or a comma-separated list of them (got ${args.gguf})`)

  const model = await loadModelDir(required('model'))
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const maxLength = args['max-length'] ? Number(args['max-length']) : defaultMaxLength(model.config.maxPositions)
  const trainRows = await readJsonl(required('data'), 'training')
  const validRows = args.validation ? await readJsonl(args.validation, 'validation') : []
  const set = encodeTrainingSet(tokenizer, method, trainRows, validRows, maxLength)
  if (set.truncated.training) log(`warning: ${set.truncated.training} training example(s) longer than ${maxLength} tokens were truncated`)

  const hp = resolveHyperparameters({
    nEpochs: autoOrNumber(args.epochs!),
    batchSize: autoOrNumber(args['batch-size']!),
    learningRateMultiplier: autoOrNumber(args['lr-multiplier']!),
  }, { examples: set.examples, tokens: set.tokensPerEpoch })
  const learningRate = args.lr ? Number(args.lr) : learningRateFor(method, hp.learningRateMultiplier, model.config)
  log(`hyperparameters: ${hp.nEpochs} epochs, batch size ${hp.batchSize}, learning rate ${learningRate}`)

  const seed = Number(args.seed)
  const trainer = new Trainer({
    config: model.config,
    weights: model.weights,
    data: set.data(hp.batchSize, seed),
    options: trainOptions(model.config, {
      method,
      epochs: hp.nEpochs,
      learningRate,
      seed,
      gradAccumSteps: Number(args['grad-accum']),
      dpoBeta: Number(args.beta),
      checkpointEverySteps: Number(args['checkpoint-every']),
      gradientCheckpointing: parseGradientCheckpointing(args['gradient-checkpointing'] ?? process.env.SKILLET_TRAINER_GRADIENT_CHECKPOINTING),
      lora: {
        rank: Number(args.rank),
        alpha: Number(args.alpha),
        dropout: Number(args.dropout),
        ...(args['target-modules'] ? { targetModules: args['target-modules'].split(',') } : {}),
      },
    }),
    reporter: defaultReporter(),
    checkpoints: new LocalCheckpointStore(join(outDir, 'checkpoints')),
  })
  const result = await trainer.run()

  // lora/dpo: the adapter; full: the model. --gguf adds a GGUF of the merged model.
  // adapter_config.json names the base model as it was given (a Hub id, or the user's own folder).
  const written = await writeOutputs(outDir, model, result, { adapter: true, merged: !result.lora, gguf, baseModelName: required('model') })
  for (const [what, where] of [['adapter', written.adapterDir], ['model', written.modelDir], ...written.ggufPaths.map((path) => ['GGUF', path]), ['Ollama Modelfile', written.modelfilePath]]) {
    if (where) log(`${what} written to ${where}`)
  }
  trainer.dispose()
}

main().catch((err: unknown) => {
  process.stderr.write(`train: ${(err as Error).message}\n`)
  process.exitCode = 1
})

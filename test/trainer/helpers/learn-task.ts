// The first-word task (test/helpers/first-word-task.ts) for the GGUF learning tests: LoRA training
// on it; the trainer's own greedy answers; and llama.cpp's
// greedy answers and perplexity for exported GGUFs of the result.
import { join } from 'node:path'
import { llamaCppLogitsMany } from '../../../src/trainer/export/llama-cpp-logits.ts'
import { loadModelDir, type LoadedModel } from '../../../src/trainer/io/load-model.ts'
import { greedyGenerate } from '../../../src/trainer/model/generate.ts'
import { ask, heldOut, reply, train } from '../../helpers/first-word-task.ts'
import { encodeTrainingSet } from '../../../src/trainer/run/training-set.ts'
import { trainOptions } from '../../../src/trainer/run/train-options.ts'
import { makeTinyModel, type TinyModelOptions } from '../../../src/trainer/tiny/make-tiny-model.ts'
import { TextTokenizer } from '../../../src/trainer/tokenizer/text-tokenizer.ts'
import type { StepMetrics } from '../../../src/trainer/train/reporter.ts'
import { Trainer, type TrainResult } from '../../../src/trainer/train/trainer.ts'
import { argmax } from './compare-logits.ts'

export { ask, reply, WORDS } from '../../helpers/first-word-task.ts'
export const TRAIN = train
export const HELD_OUT = heldOut

export interface LearnedTask {
  model: LoadedModel
  tokenizer: TextTokenizer
  trainer: Trainer
  result: TrainResult
  steps: StepMetrics[]
  /** Held-out chat prompts, tokenised with the generation prompt. */
  prompts: number[][]
  /** The right answers to them, ending with EOS. */
  expected: number[][]
  /** Exact-match rate of the untrained model. */
  before: number
  /** The trained model's greedy answers (ours, on the trainer's forward pass). */
  answers: number[][]
  seconds: number
}

export const exactMatch = (answers: number[][], expected: number[][]) => answers.filter((a, i) => a.join() === expected[i].join()).length / answers.length

/**
 * Generates the tiny Llama (initStd 0.1 by default rather than HF's 0.02: LoRA leaves lm_head and
 * the final norm frozen, and with 0.02 their logits are too flat for LoRA to make the copied word
 * win the argmax) and LoRA-trains it on the task.
 */
export async function learnTask(dir: string, options: { model?: Partial<TinyModelOptions>; epochs?: number; learningRate?: number } = {}): Promise<LearnedTask> {
  await makeTinyModel({ architecture: 'llama', dir: join(dir, 'base'), seed: 0, initStd: 0.1, ...options.model })
  const model = await loadModelDir(join(dir, 'base'))
  const tokenizer = new TextTokenizer(model.tokenizerJson, model.tokenizerConfig, model.chatTemplate)
  const eos = tokenizer.eosTokenId!
  const row = (words: string[]) => ({ messages: [{ role: 'user', content: ask(words) }, { role: 'assistant', content: reply(words) }] })
  const set = encodeTrainingSet(tokenizer, 'lora', TRAIN.map(row), [], 64)
  const steps: StepMetrics[] = []
  const trainer = new Trainer({
    config: model.config,
    weights: model.weights,
    data: set.data(8, 1),
    options: trainOptions(model.config, { method: 'lora', epochs: options.epochs ?? 20, learningRate: options.learningRate ?? 5e-3, seed: 1, lora: { dropout: 0 } }),
    reporter: { onStep: (m) => steps.push(m), onEval() {}, onCheckpoint() {}, onEvent() {} },
  })
  const prompts = HELD_OUT.map((words) => tokenizer.encodeChat([{ role: 'user', content: ask(words) }], { addGenerationPrompt: true }))
  const expected = HELD_OUT.map((words) => [...tokenizer.encode(reply(words), { addSpecialTokens: false }), eos])
  const generate = () => greedyGenerate(trainer.weights, trainer.lora, prompts, { maxNewTokens: expected[0].length + 1, eosId: eos })
  const before = exactMatch(await generate(), expected)
  const started = performance.now()
  const result = await trainer.run()
  const seconds = (performance.now() - started) / 1000
  return { model, tokenizer, trainer, result, steps, prompts, expected, before, answers: await generate(), seconds }
}

export interface LlamaCppScore {
  /** llama.cpp's greedy answer to each prompt, read off its argmax at each position of ours. */
  greedy: number[][]
  /** exp(mean negative log-likelihood) of our answers (the part of each transcript that was learned). */
  perplexity: number
}

function logSoftmaxAt(row: Float32Array, token: number): number {
  let max = -Infinity
  for (const v of row) max = Math.max(max, v)
  let sum = 0
  for (const v of row) sum += Math.exp(v - max)
  return row[token] - max - Math.log(sum)
}

/**
 * One llama.cpp process scores prompt + our answer under every file. Its greedy answer equals
 * ours exactly when its argmax at each answer position is our next token (and ours ends at EOS,
 * where llama.cpp stops too).
 */
export async function scoreInLlamaCpp(paths: string[], prompts: number[][], answers: number[][]): Promise<LlamaCppScore[]> {
  const sequences = prompts.map((p, i) => [...p, ...answers[i]])
  const logits = await llamaCppLogitsMany(paths.flatMap((modelPath) => sequences.map((tokens) => ({ modelPath, tokens }))), { timeoutMs: 1_200_000 })
  return paths.map((_, k) => {
    const rows = logits.slice(k * sequences.length, (k + 1) * sequences.length)
    const greedy = prompts.map((p, i) => answers[i].map((_, j) => argmax(rows[i][p.length - 1 + j])))
    let nll = 0
    let count = 0
    sequences.forEach((tokens, i) => {
      for (let j = prompts[i].length; j < tokens.length; j++) {
        nll -= logSoftmaxAt(rows[i][j - 1], tokens[j])
        count++
      }
    })
    return { greedy, perplexity: Math.exp(nll / count) }
  })
}

/**
 * How much worse than F16 a quantised file's perplexity on the held-out answers may be. Measured
 * (2026-12, wasm): the fully trained 64-wide model ×1.051 for Q4_0 and ×1.009 for Q4_K_M (there the
 * Q5_0 / Q8_0 fallback mix); the 256-wide model (real Q4_K / Q6_K) ×0.995 – ×1.001 for all three.
 * Q4_0 on the 64-wide model moves with the float rounding of training, which lands its weights on
 * other steps of the 16-level grid: ×1.085 on another CPU (AVX-512) with the same code, ×1.100 there
 * once the LoRA products changed engine (F16 perplexity 2.2625 and 2.2619: the same model), the
 * greedy answers identical to F16 each time.
 */
export const QUANTIZED_PERPLEXITY_BOUND: Record<'Q8_0' | 'Q4_0' | 'Q4_K_M', number> = { Q8_0: 1.02, Q4_K_M: 1.05, Q4_0: 1.15 }

// A fine-tuning dataset ready for the Trainer: OpenAI fine-tuning JSONL rows encoded once with
// the model's tokenizer, summarised (examples, tokens, truncations: what "auto" hyperparameters
// and the estimate need), then batched at whatever batch size they resolve to. Shared by the
// stand-alone CLI (src/cli/train.ts) and the service's trainer (src/trainer/service/).
import { makeBatches, padBatch } from '../data/batching.ts'
import { chatIds, encodeChat, encodeCompletion, encodePreference, preferenceSide } from '../data/encode-examples.ts'
import type { ChatExample, CompletionExample, EncodedPreference, EncodedSequence, PreferenceExample } from '../data/example-types.ts'
import { Random } from '../model/random.ts'
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts'
import type { TrainingMethod } from '../../protocol/auto-hyperparameters.ts'
import type { PreferenceBatch } from '../train/dpo-loss.ts'
import type { MicroBatch, SftBatch, TrainingData } from '../train/trainer.ts'

export type JsonlRow = Record<string, unknown>

/** Which of the job's files a row came from. */
export type FileRole = 'training' | 'validation' | 'forgetting'

/** Input the trainer can never train on (a retry cannot help): bad JSON, no usable examples. */
export class InvalidTrainingDataError extends Error {
  readonly role: FileRole
  constructor(role: FileRole, message: string) {
    super(message)
    this.name = 'InvalidTrainingDataError'
    this.role = role
  }
}

/** One JSON object per non-blank line. */
export function parseJsonl(text: string, role: FileRole, source: string): JsonlRow[] {
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return []
    try {
      const row = JSON.parse(line) as unknown
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error('not an object')
      return [row as JsonlRow]
    } catch {
      throw new InvalidTrainingDataError(role, `${source}:${i + 1}: not a JSON object`)
    }
  })
}

export interface TrainingSet {
  method: TrainingMethod
  /** Training examples (preference pairs for DPO). */
  examples: number
  /** Tokens of one pass over the training examples (both sequences of a pair for DPO). */
  tokensPerEpoch: number
  validationExamples: number
  /** Examples cut off at maxLength. */
  truncated: { training: number; validation: number }
  maxLength: number
  /** The Trainer's data at `batchSize`; epoch e is shuffled with seed·1000 + e, validation is fixed. */
  data(batchSize: number, seed: number): TrainingData
}

/** One supervised row (chat, or prompt/completion) as the trainer trains it. */
function encodeSftRow(tokenizer: TextTokenizer, row: JsonlRow, maxLength: number): EncodedSequence {
  return 'messages' in row
    ? encodeChat(tokenizer, row as unknown as ChatExample, maxLength)
    : encodeCompletion(tokenizer, row as unknown as CompletionExample, maxLength)
}

/** One preference row (DPO) as the trainer trains it. */
function encodePreferenceRow(tokenizer: TextTokenizer, row: JsonlRow, maxLength: number): EncodedPreference {
  return encodePreference(tokenizer, row as unknown as PreferenceExample, maxLength)
}

/** Tokens one encoded example adds to an epoch (both sequences of a pair), and whether any was cut off. */
function exampleTokens(encoded: EncodedSequence | EncodedPreference): { tokens: number; truncated: boolean } {
  if ('ids' in encoded) return { tokens: encoded.ids.length, truncated: encoded.truncated }
  return { tokens: encoded.chosen.ids.length + encoded.rejected.ids.length, truncated: encoded.chosen.truncated || encoded.rejected.truncated }
}

/**
 * The untruncated lengths of one row's sequences (a pair: chosen, rejected), encoded as the trainer
 * encodes them but without the loss mask: the trainer trains on min(length, maxLength) tokens of each.
 */
export function rowLengths(tokenizer: TextTokenizer, preference: boolean, row: JsonlRow): number[] {
  if (preference) {
    const pair = row as unknown as PreferenceExample
    return [pair.preferred_output, pair.non_preferred_output].map((output) => chatIds(tokenizer, preferenceSide(pair, output)).length)
  }
  return ['messages' in row ? chatIds(tokenizer, row as unknown as ChatExample).length : encodeCompletion(tokenizer, row as unknown as CompletionExample, Number.POSITIVE_INFINITY).ids.length]
}

const sumTokens = (encoded: (EncodedSequence | EncodedPreference)[]) => encoded.reduce((n, e) => n + exampleTokens(e).tokens, 0)
const countTruncated = (encoded: (EncodedSequence | EncodedPreference)[]) => encoded.filter((e) => exampleTokens(e).truncated).length

function encodeSft(tokenizer: TextTokenizer, rows: JsonlRow[], maxLength: number): EncodedSequence[] {
  return rows.map((row) => encodeSftRow(tokenizer, row, maxLength))
}

/** Preference pairs in a seeded order, batched as [chosen..., rejected...] rows. */
function preferenceBatches(pairs: EncodedPreference[], batchSize: number, seed: number, padId: number): PreferenceBatch[] {
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

/** Encodes both files; `method` 'dpo' expects preference rows, the others chat or prompt/completion rows. */
export function encodeTrainingSet(tokenizer: TextTokenizer, method: TrainingMethod, trainRows: JsonlRow[], validRows: JsonlRow[], maxLength: number): TrainingSet {
  if (trainRows.length === 0) throw new InvalidTrainingDataError('training', 'the training file has no examples')
  const padId = tokenizer.padTokenId
  const cache = (make: (epoch: number) => MicroBatch[]) => {
    const made = new Map<number, MicroBatch[]>()
    return (epoch: number) => {
      if (!made.has(epoch)) made.set(epoch, make(epoch))
      return made.get(epoch)!
    }
  }
  if (method === 'dpo') {
    const pairs = trainRows.map((r) => encodePreferenceRow(tokenizer, r, maxLength))
    const validPairs = validRows.map((r) => encodePreferenceRow(tokenizer, r, maxLength))
    return {
      method, maxLength,
      examples: pairs.length,
      validationExamples: validPairs.length,
      tokensPerEpoch: sumTokens(pairs),
      truncated: { training: countTruncated(pairs), validation: countTruncated(validPairs) },
      data: (batchSize, seed) => ({
        batches: cache((epoch) => preferenceBatches(pairs, batchSize, seed * 1000 + epoch, padId)),
        validation: validPairs.length ? preferenceBatches(validPairs, batchSize, 0, padId) : [],
      }),
    }
  }
  const encoded = encodeSft(tokenizer, trainRows, maxLength)
  const validEncoded = encodeSft(tokenizer, validRows, maxLength)
  if (!encoded.some((e) => e.lossMask.includes(1))) {
    throw new InvalidTrainingDataError('training', 'no training example has a token to learn (no assistant message with weight 1, or every one was cut off)')
  }
  return {
    method, maxLength,
    examples: encoded.length,
    validationExamples: validEncoded.length,
    tokensPerEpoch: sumTokens(encoded),
    truncated: { training: countTruncated(encoded), validation: countTruncated(validEncoded) },
    data: (batchSize, seed) => ({
      batches: cache((epoch) => makeBatches(encoded, { batchSize, seed: seed * 1000 + epoch, padId })),
      validation: validEncoded.length ? makeBatches(validEncoded, { batchSize, seed: 0, padId }) : [],
    }),
  }
}

/** Chat or prompt/completion rows as fixed batches (the forgetting check's user-supplied text): the loss falls on assistant messages / completions. */
export function encodeSupervisedRows(tokenizer: TextTokenizer, rows: JsonlRow[], maxLength: number, batchSize = 8): SftBatch[] {
  return makeBatches(encodeSft(tokenizer, rows, maxLength), { batchSize, seed: 0, padId: tokenizer.padTokenId })
}

/** The longest sequence to train on: the model's context, capped at 2048 to bound memory. */
export function defaultMaxLength(maxPositions: number): number {
  return Math.min(maxPositions, 2048)
}

// The token counts the pre-training estimate reads: a job's training file counted with its base
// model's tokenizer and chat template, through the trainer's own encoding (src/trainer/run/
// token-count.ts). Counting streams the file and can take a while on a big one, so it runs in the
// background, off the scheduler's tick and outside any transaction: the first lookup starts it and
// answers 'pending', the job stays in validating_files, and `onCounted` wakes the scheduler when
// the count is there. Counts are kept in memory (a restarted process counts again), per file, base
// model and method.
import type { Logger } from 'pino'
import type { BaseModelSource } from '../config/index.ts'
import type { Db } from '../db/database.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import type { TokenCountLookup, TokenCountOutcome } from '../jobs/job-validation.ts'
import type { JobRow } from '../jobs/job-object.ts'
import { countFileTokens, LineEncodingError } from '../files/count-file-tokens.ts'
import { TokenCounter } from '../trainer/run/token-count.ts'
import { loadBaseModelTokenizer, type BaseModelTokenizer } from './base-model-tokenizer.ts'
import { jobStartingPoint } from './job-starting-point.ts'

/** Counts kept (each a few numbers); the oldest goes first. */
const MAX_COUNTS = 500
/** Tokenizers kept loaded (a real model's is tens of MB). */
const MAX_TOKENIZERS = 2

export interface TokenCountsDeps {
  db: Db
  blobs: BlobStore
  baseModels: Record<string, BaseModelSource>
  log: Logger
  /** Called when a count finished: the job waiting for it can be validated now. */
  onCounted: () => void
}

export class TokenCounts {
  readonly #deps: TokenCountsDeps
  readonly #counts = new Map<string, TokenCountOutcome>()
  readonly #tokenizers = new Map<string, Promise<BaseModelTokenizer | null>>()
  readonly #abort = new AbortController()

  constructor(deps: TokenCountsDeps) {
    this.#deps = deps
  }

  /** The lookup job validation calls (see TokenCountLookup). */
  readonly lookup: TokenCountLookup = async (job, file) => {
    let baseModel: string
    try {
      baseModel = (await jobStartingPoint(this.#deps, job.projectId, job.model, job.method.type)).baseModel
    } catch (err) {
      return { state: 'unavailable', reason: (err as Error).message }
    }
    const key = `${file.id}\n${baseModel}\n${job.method.type}`
    // No tokenizer is an answer for the job that asked (it goes on with characters / 4), not for later
    // jobs: a Hub model is fetched when its first job starts, and the next job on it can count.
    const noTokenizer = `${key}\n${job.id}`
    const known = this.#counts.get(noTokenizer) ?? this.#counts.get(key)
    if (known) return known
    this.#counts.set(key, { state: 'pending' })
    while (this.#counts.size > MAX_COUNTS) this.#counts.delete(this.#counts.keys().next().value!)
    void this.#count(job, baseModel, file.blobKey).then((outcome) => {
      if (this.#abort.signal.aborted) return
      if (outcome.state === 'unavailable') {
        this.#counts.delete(key)
        this.#counts.set(noTokenizer, outcome)
      } else this.#counts.set(key, outcome)
      this.#deps.onCounted()
    }, (err) => {
      this.#counts.delete(key)
      this.#deps.log.error({ err, jobId: job.id }, 'token count failed')
    })
    return { state: 'pending' }
  }

  async #count(job: JobRow, baseModel: string, blobKey: string): Promise<TokenCountOutcome> {
    let tokenizer: BaseModelTokenizer | null
    try {
      tokenizer = await this.#tokenizer(baseModel)
    } catch (err) {
      return { state: 'unavailable', reason: `the tokenizer of ${baseModel} could not be read (${(err as Error).message})` }
    }
    // A Hub model is fetched when its first job starts: until then its tokenizer is not here.
    if (!tokenizer) return { state: 'unavailable', reason: `${baseModel} is not fetched from the Hub yet` }
    const counter = new TokenCounter(tokenizer.tokenizer, { preference: job.method.type === 'dpo', maxLength: tokenizer.maxLength })
    const started = performance.now()
    try {
      const count = await countFileTokens(await this.#deps.blobs.get(blobKey), counter, { signal: this.#abort.signal })
      this.#deps.log.info({ jobId: job.id, examples: count.examples, tokens: count.tokens, ms: Math.round(performance.now() - started) }, 'counted training tokens')
      return { state: 'counted', count, fingerprint: tokenizer.fingerprint }
    } catch (err) {
      if (err instanceof LineEncodingError) return { state: 'failed', message: `${err.message} (with the tokenizer and chat template of ${baseModel})` }
      if (this.#abort.signal.aborted) throw err
      // The file's bytes could not be read (e.g. gone from the blob store): counting again would fail
      // again and leave the job validating for ever. The job goes on with characters / 4; the trainer,
      // which reads the same bytes, fails it naming the file.
      this.#deps.log.warn({ err, jobId: job.id }, 'token count could not read the training file')
      return { state: 'unavailable', reason: `the training file ${job.trainingFile} could not be read` }
    }
  }

  #tokenizer(baseModel: string): Promise<BaseModelTokenizer | null> {
    const source = this.#deps.baseModels[baseModel]
    let loaded = this.#tokenizers.get(baseModel)
    if (!loaded) {
      loaded = loadBaseModelTokenizer(this.#deps, source)
      this.#tokenizers.set(baseModel, loaded)
      while (this.#tokenizers.size > MAX_TOKENIZERS) this.#tokenizers.delete(this.#tokenizers.keys().next().value!)
      // Not there yet (a Hub model) or unreadable: look again next time.
      loaded.then((t) => t ?? this.#tokenizers.delete(baseModel), () => this.#tokenizers.delete(baseModel))
    }
    return loaded
  }

  /** Stops counts in progress (shutdown). */
  close(): void {
    this.#abort.abort()
  }
}

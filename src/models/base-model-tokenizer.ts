// A base model's tokenizer and chat template, read where the trainer will read them (its
// directory, or its blobs), for the API's pre-training token count. Only the small files are read
// (config.json, tokenizer.json, tokenizer_config.json, chat_template.jinja), never the weights. A
// Hub model not fetched yet has none here: the caller falls back to a character estimate.
import { eq } from 'drizzle-orm'
import type { BaseModelSource } from '../config/index.ts'
import type { Db } from '../db/database.ts'
import { hubModelCache } from '../db/schema/index.ts'
import type { BlobStore } from '../storage/blob-store.ts'
import { dirReader, readTokenizerFiles, type ModelFileReader } from '../trainer/io/load-model.ts'
import { defaultMaxLength } from '../trainer/run/training-set.ts'
import { tokenizerFingerprint, type TokenizerFingerprint } from '../trainer/tokenizer/tokenizer-fingerprint.ts'
import type { TextTokenizer } from '../trainer/tokenizer/text-tokenizer.ts'

export interface BaseModelTokenizer {
  tokenizer: TextTokenizer
  /** The longest sequence the trainer trains on (the model's context, capped as the trainer caps it). */
  maxLength: number
  fingerprint: TokenizerFingerprint
}

const blobReader = (blobs: BlobStore, prefix: string): ModelFileReader => {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`
  return async (name) => {
    if (!(await blobs.head(`${base}${name}`))) return null
    return Buffer.concat(await (await blobs.get(`${base}${name}`)).toArray()).toString('utf8')
  }
}

/** Where the model's files are readable now; null for a Hub model not yet in the blob store. */
async function readerFor(deps: { db: Db; blobs: BlobStore }, source: BaseModelSource): Promise<ModelFileReader | null> {
  if (source.kind === 'dir') return dirReader(source.path)
  if (source.kind === 'blob') return blobReader(deps.blobs, source.prefix)
  const [cached] = await deps.db.select().from(hubModelCache).where(eq(hubModelCache.repo, `${source.repo}@${source.revision}`))
  return cached ? blobReader(deps.blobs, cached.blobPrefix) : null
}

/** The base model's tokenizer, or null when its files are not available yet. Throws when they are unreadable. */
export async function loadBaseModelTokenizer(deps: { db: Db; blobs: BlobStore }, source: BaseModelSource): Promise<BaseModelTokenizer | null> {
  const read = await readerFor(deps, source)
  if (!read) return null
  const files = await readTokenizerFiles(read)
  // Loaded on first use: the API process does not carry the tokenizer libraries until a job needs them.
  const { TextTokenizer } = await import('../trainer/tokenizer/text-tokenizer.ts')
  return {
    tokenizer: new TextTokenizer(files.tokenizerJson, files.tokenizerConfig, files.chatTemplate),
    maxLength: defaultMaxLength(files.config.maxPositions),
    fingerprint: tokenizerFingerprint(files),
  }
}

// What identifies a tokenizer and a chat template: SHA-256 of each, over the parsed files written
// back as JSON (so the same files hash the same wherever they were read from). Recorded in a job's
// run.json, and the key under which the API keeps a file's token count.
import { createHash } from 'node:crypto'

export interface TokenizerFingerprint {
  /** tokenizer.json and tokenizer_config.json together. */
  tokenizerSha256: string
  /** The chat template's text; null when the model has none. */
  chatTemplateSha256: string | null
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

export function tokenizerFingerprint(files: { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown>; chatTemplate: string | null }): TokenizerFingerprint {
  return {
    tokenizerSha256: sha256(`${JSON.stringify(files.tokenizerJson)}\n${JSON.stringify(files.tokenizerConfig)}`),
    chatTemplateSha256: files.chatTemplate === null ? null : sha256(files.chatTemplate),
  }
}

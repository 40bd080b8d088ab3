// A tokenizer.json as GGUF tokenizer metadata (tokenizer.ggml.*): byte-level BPE as "gpt2" with
// its merges, SentencePiece-style BPE as "llama" with scores and token types (BYTE for the byte
// fallback tokens, UNKNOWN for <unk>), following convert_hf_to_gguf.py's get_vocab_base: every id in [0, vocab size) gets exactly one token
// string (holes become "[PAD{id}]"), added special tokens are CONTROL, other added tokens
// USER_DEFINED. llama.cpp aborts on a duplicate token string, so that is checked here.
import type { ModelConfig } from '../model/types.ts'
import { PRE_TOKENIZER_PATTERNS } from '../tiny/byte-level-bpe.ts'
import type { GgufValue } from './gguf-writer.ts'

export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const

interface AddedToken {
  id: number
  content: string
  special: boolean
}

type Json = Record<string, unknown>

function specialTokenText(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string
  return null
}

/**
 * llama.cpp picks its pre-tokenizer regex by name (tokenizer.ggml.pre); the Python converter
 * finds it by hashing sample output. We recognise the few regexes we know by their text.
 */
export function detectPreTokenizer(tokenizerJson: Json): string {
  const pre = tokenizerJson.pre_tokenizer as Json | null
  if (!pre) return 'default'
  if (pre.type === 'ByteLevel' && pre.use_regex !== false) return 'gpt-2'
  const parts = pre.type === 'Sequence' ? (pre.pretokenizers as Json[]) : [pre]
  const regex = parts.map((p) => ((p.pattern as Json | undefined)?.Regex as string | undefined) ?? null).find((r) => r !== null)
  if (regex === PRE_TOKENIZER_PATTERNS.llama3) return 'llama-bpe'
  if (regex === PRE_TOKENIZER_PATTERNS.qwen2) return 'qwen2'
  return 'default'
}

const BYTE_TOKEN = /^<0x[0-9A-F]{2}>$/

/**
 * A SentencePiece model converted to tokenizer.json (Llama-2, Mistral, TinyLlama, Phi-3): BPE with
 * byte fallback, spaces as ▁ put in by the normalizer (or a Metaspace pre-tokenizer).
 */
export function isSentencePieceBpe(tokenizerJson: Json): boolean {
  const model = tokenizerJson.model as Json
  if (model.type !== 'BPE' || model.byte_fallback !== true) return false
  const { normalizers, pres } = normalizerSteps(tokenizerJson)
  return normalizers.some((n) => n.type === 'Replace' && n.content === '\u2581') || pres.some((p) => p.type === 'Metaspace')
}

/** The normalizer and pre-tokenizer steps of a tokenizer.json, Sequences flattened one level. */
function normalizerSteps(tokenizerJson: Json): { normalizers: Json[]; pres: Json[] } {
  const parts = (x: Json | null | undefined, key: string): Json[] => (!x ? [] : x.type === 'Sequence' ? (x[key] as Json[]) : [x])
  return { normalizers: parts(tokenizerJson.normalizer as Json | null, 'normalizers'), pres: parts(tokenizerJson.pre_tokenizer as Json | null, 'pretokenizers') }
}

/**
 * Whether a SentencePiece tokenizer puts ▁ before the text (tokenizer.ggml.add_space_prefix):
 * Llama-2's Prepend normalizer, or a Metaspace pre-tokenizer that prepends; Gemma's does neither.
 */
function addsSpacePrefix(tokenizerJson: Json): boolean {
  const { normalizers, pres } = normalizerSteps(tokenizerJson)
  if (normalizers.some((n) => n.type === 'Prepend' && n.prepend === '\u2581')) return true
  return pres.some((p) => p.type === 'Metaspace' && (p.prepend_scheme !== undefined ? p.prepend_scheme !== 'never' : p.add_prefix_space !== false))
}

/** Does the post-processor prepend a special token (Llama-3's BOS) to every encoding? */
function postProcessorAddsBos(tokenizerJson: Json): boolean {
  const post = tokenizerJson.post_processor as Json | null
  if (!post) return false
  const processors = post.type === 'Sequence' ? (post.processors as Json[]) : [post]
  return processors.some((p) => p.type === 'TemplateProcessing' && Array.isArray(p.single) && 'SpecialToken' in (p.single[0] as Json))
}

export function ggufVocabMetadata(
  config: ModelConfig,
  tokenizerJson: Json,
  tokenizerConfig: Json,
  chatTemplate: string | null,
): Map<string, GgufValue> {
  const model = tokenizerJson.model as Json
  if (model.type !== 'BPE') throw new Error(`GGUF export supports BPE tokenizers (byte-level, or SentencePiece-style with byte fallback) only, not ${String(model.type)}`)
  const sentencePiece = isSentencePieceBpe(tokenizerJson)
  const byId = new Map<number, string>()
  for (const [token, id] of Object.entries(model.vocab as Record<string, number>)) byId.set(id, token)
  const added = new Map<number, AddedToken>()
  for (const token of (tokenizerJson.added_tokens as AddedToken[] | undefined) ?? []) {
    byId.set(token.id, token.content)
    added.set(token.id, token)
  }
  // llama.cpp sizes the vocabulary from this list and checks it against the embedding rows.
  const vocabSize = config.vocabSize
  const beyond = [...byId.keys()].filter((id) => id >= vocabSize)
  if (beyond.length) throw new Error(`GGUF export: tokenizer ids ${beyond.slice(0, 5).join(', ')} are beyond the model's vocab_size ${vocabSize}`)
  const tokens: string[] = []
  const types: number[] = []
  for (let id = 0; id < vocabSize; id++) {
    const token = byId.get(id)
    if (token === undefined) {
      tokens.push(`[PAD${id}]`)
      types.push(TokenType.UNUSED)
    } else {
      tokens.push(token)
      const addedToken = added.get(id)
      if (sentencePiece && token === model.unk_token) types.push(TokenType.UNKNOWN)
      else if (addedToken !== undefined) types.push(addedToken.special ? TokenType.CONTROL : TokenType.USER_DEFINED)
      else types.push(sentencePiece && BYTE_TOKEN.test(token) ? TokenType.BYTE : TokenType.NORMAL)
    }
  }
  const seen = new Map<string, number>()
  tokens.forEach((token, id) => {
    const other = seen.get(token)
    if (other !== undefined) throw new Error(`GGUF export: token ${JSON.stringify(token)} appears at ids ${other} and ${id}; llama.cpp refuses duplicates`)
    seen.set(token, id)
  })
  const meta = new Map<string, GgufValue>()
  if (sentencePiece) {
    // llama.cpp's SentencePiece tokenizer merges the adjacent pair whose piece scores highest;
    // a piece's BPE rank is its id, so -id orders them as the merges do (Llama-2's scores fall
    // with the id too). Specials, bytes and unused ids score 0.
    meta.set('tokenizer.ggml.model', { type: 'string', value: 'llama' })
    meta.set('tokenizer.ggml.pre', { type: 'string', value: 'default' })
    meta.set('tokenizer.ggml.tokens', { type: 'string[]', value: tokens })
    meta.set('tokenizer.ggml.scores', { type: 'float32[]', value: types.map((type, id) => (type === TokenType.NORMAL ? -id : 0)) })
    meta.set('tokenizer.ggml.token_type', { type: 'int32[]', value: types })
    meta.set('tokenizer.ggml.add_space_prefix', { type: 'bool', value: addsSpacePrefix(tokenizerJson) })
    const unk = seen.get(model.unk_token as string)
    if (unk !== undefined) meta.set('tokenizer.ggml.unknown_token_id', { type: 'uint32', value: unk })
  } else {
    const merges = (model.merges as (string | [string, string])[]).map((m) => (typeof m === 'string' ? m : m.join(' ')))
    meta.set('tokenizer.ggml.model', { type: 'string', value: 'gpt2' })
    meta.set('tokenizer.ggml.pre', { type: 'string', value: detectPreTokenizer(tokenizerJson) })
    meta.set('tokenizer.ggml.tokens', { type: 'string[]', value: tokens })
    meta.set('tokenizer.ggml.token_type', { type: 'int32[]', value: types })
    meta.set('tokenizer.ggml.merges', { type: 'string[]', value: merges })
  }
  const idOf = (key: string) => {
    const text = specialTokenText(tokenizerConfig[key])
    return text === null ? undefined : seen.get(text)
  }
  const bos = idOf('bos_token') ?? config.bosTokenId ?? undefined
  const eos = idOf('eos_token') ?? config.eosTokenId ?? undefined
  const pad = idOf('pad_token')
  if (bos !== undefined) meta.set('tokenizer.ggml.bos_token_id', { type: 'uint32', value: bos })
  if (eos !== undefined) meta.set('tokenizer.ggml.eos_token_id', { type: 'uint32', value: eos })
  if (pad !== undefined) meta.set('tokenizer.ggml.padding_token_id', { type: 'uint32', value: pad })
  const addBos = tokenizerConfig.add_bos_token === true || postProcessorAddsBos(tokenizerJson)
  meta.set('tokenizer.ggml.add_bos_token', { type: 'bool', value: addBos })
  meta.set('tokenizer.ggml.add_eos_token', { type: 'bool', value: tokenizerConfig.add_eos_token === true })
  if (chatTemplate !== null) meta.set('tokenizer.chat_template', { type: 'string', value: chatTemplate })
  return meta
}

// Writes a tiny model with seeded random weights in the real Hugging Face layout (config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json), so every
// loader, trainer and exporter path runs on it exactly as on a downloaded checkpoint.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Architecture, HostTensor, HostTensors } from '../model/types.ts'
import { writeSafetensorsFile } from '../io/safetensors.ts'
import { buildTokenizerJson, trainByteLevelBpe, type PreTokenizerStyle } from './byte-level-bpe.ts'
import { buildSentencePieceTokenizerJson, trainSentencePieceBpe } from './sentencepiece-bpe.ts'
import { chatMlTemplate } from './chat-template.ts'
import { seededRandom, type Random } from './seeded-random.ts'
import { tinyCorpus } from './tiny-corpus.ts'

/** What makeTinyModel can write: each trainer architecture, and Mistral (Llama's graph as MistralForCausalLM). */
export type TinyFamily = Architecture | 'mistral'
export const TINY_FAMILIES: TinyFamily[] = ['llama', 'mistral', 'qwen2', 'phi3', 'gemma2', 'gpt2']

export interface TinyModelOptions {
  architecture: TinyFamily
  dir: string
  seed?: number
  hiddenSize?: number
  numLayers?: number
  numHeads?: number
  /** Not GPT-2; defaults to numHeads / 2 (GQA). */
  numKvHeads?: number
  intermediateSize?: number
  /** Total vocabulary including 256 byte tokens and the special tokens. */
  vocabSize?: number
  maxPositions?: number
  tieWordEmbeddings?: boolean
  /** Std of the random weights (HF's initializer_range). */
  initStd?: number
  ropeTheta?: number
  /**
   * 'byte-level' BPE (GPT-2 / Llama-3 / Qwen2 style) or 'sentencepiece': a Llama-2-style BPE
   * with ▁ spaces and byte fallback (llama, mistral, phi3 and gemma2 only; their default, except llama's).
   */
  tokenizer?: 'byte-level' | 'sentencepiece'
  /** Llama-3 style rope scaling (llama only). */
  ropeScaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number } | null
  /** config.json's sliding_window (mistral and phi3, default null: none; gemma2, default 4096). */
  slidingWindow?: number | null
  /** Gemma-2's attn_logit_softcapping and final_logit_softcapping (gemma2 only; default 50 and 30, as Gemma-2's). */
  softcaps?: { attention: number | null; final: number | null }
  /**
   * Phi-3's longrope (phi3 only): headDim/2 factors each, and the pre-extension context length
   * (original_max_position_embeddings; maxPositions is the extended one).
   */
  longRope?: { shortFactor: number[]; longFactor: number[]; originalMaxPositionEmbeddings: number } | null
}

/** Specials appended after the learned vocabulary, in this order. */
export const TINY_SPECIAL_TOKENS = ['<|endoftext|>', '<|begin_of_text|>', '<|im_start|>', '<|im_end|>']
/** The SentencePiece tokenizer's chat specials, appended after its pieces (<unk> <s> </s> come first). */
const SPM_ADDED_TOKENS = ['<|im_start|>', '<|im_end|>']

const STYLE: Record<TinyFamily, PreTokenizerStyle> = { llama: 'llama3', mistral: 'llama3', qwen2: 'qwen2', phi3: 'llama3', gemma2: 'llama3', gpt2: 'gpt2' }
const HF_CLASS: Record<TinyFamily, string> = {
  llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', phi3: 'Phi3ForCausalLM', gemma2: 'Gemma2ForCausalLM', gpt2: 'GPT2LMHeadModel',
}

export interface TinyModelFiles {
  dir: string
  config: Record<string, unknown>
  weights: HostTensors
}

export async function makeTinyModel(options: TinyModelOptions): Promise<TinyModelFiles> {
  const arch = options.architecture
  const seed = options.seed ?? 0
  const hidden = options.hiddenSize ?? 64
  const heads = options.numHeads ?? 4
  const dims = {
    hidden,
    layers: options.numLayers ?? 2,
    heads,
    kvHeads: arch === 'gpt2' ? heads : (options.numKvHeads ?? Math.max(1, heads / 2)),
    headDim: hidden / heads,
    intermediate: options.intermediateSize ?? (arch === 'gpt2' ? 4 * hidden : 2 * hidden),
    vocab: options.vocabSize ?? 512,
    positions: options.maxPositions ?? 256,
    tie: options.tieWordEmbeddings ?? (arch === 'qwen2' || arch === 'gemma2' || arch === 'gpt2'),
  }

  const spmFamilies: TinyFamily[] = ['llama', 'mistral', 'phi3', 'gemma2']
  const sentencePiece = (options.tokenizer ?? (arch === 'llama' ? 'byte-level' : spmFamilies.includes(arch) ? 'sentencepiece' : 'byte-level')) === 'sentencepiece'
  if (sentencePiece && !spmFamilies.includes(arch)) throw new Error(`a SentencePiece tokenizer is for ${spmFamilies.join(', ')} only`)
  if (options.slidingWindow != null && arch !== 'mistral' && arch !== 'phi3' && arch !== 'gemma2') throw new Error('slidingWindow is for mistral, phi3 and gemma2 only')
  if (options.softcaps && arch !== 'gemma2') throw new Error('softcaps is for gemma2 only')
  if (options.longRope && arch !== 'phi3') throw new Error('longRope is for phi3 only')
  if (options.ropeScaling && arch !== 'llama') throw new Error('ropeScaling (Llama-3 style) is for llama only')
  // Phi-3's vocabulary adds <|endoftext|> (id 32000) to Llama-2's; llama.cpp's loader requires it
  // of a model whose general.name mentions phi3.
  const specials = sentencePiece ? (arch === 'phi3' ? ['<|endoftext|>', ...SPM_ADDED_TOKENS] : SPM_ADDED_TOKENS) : TINY_SPECIAL_TOKENS
  const learned = dims.vocab - specials.length
  const bpe = sentencePiece ? null : trainByteLevelBpe(tinyCorpus(seed), learned)
  const spm = sentencePiece ? trainSentencePieceBpe(tinyCorpus(seed), learned) : null
  const pieceCount = spm ? spm.pieces.length : bpe!.vocab.size
  const idOf = (token: string) => (spm && spm.pieces.includes(token) ? spm.pieces.indexOf(token) : pieceCount + specials.indexOf(token))
  const usesBos = arch !== 'qwen2' && arch !== 'gpt2'
  const bosToken = sentencePiece ? '<s>' : usesBos ? '<|begin_of_text|>' : '<|endoftext|>'
  const eosToken = arch === 'gpt2' ? '<|endoftext|>' : '<|im_end|>'

  const config = arch === 'gpt2' ? gpt2Config(dims, idOf(bosToken), idOf(eosToken)) : llamaLikeConfig(arch, dims, options, idOf(bosToken), idOf(eosToken))
  const random = seededRandom(seed + 1)
  const std = options.initStd ?? 0.02
  const weights = arch === 'gpt2' ? gpt2Weights(dims, random, std) : llamaLikeWeights(arch, dims, random, std)

  const tokenizerJson = spm
    ? buildSentencePieceTokenizerJson(spm, specials)
    : buildTokenizerJson({ bpe: bpe!, specialTokens: TINY_SPECIAL_TOKENS, style: STYLE[arch], prependToken: usesBos ? bosToken : null })
  const tokenizerConfig = {
    add_bos_token: usesBos,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(
      [...(spm ? ['<unk>', '<s>', '</s>'] : []), ...specials].map((content) => [
        String(idOf(content)),
        { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      ]),
    ),
    bos_token: arch === 'qwen2' ? null : bosToken,
    eos_token: eosToken,
    pad_token: sentencePiece ? '</s>' : '<|endoftext|>',
    unk_token: sentencePiece ? '<unk>' : null,
    chat_template: chatMlTemplate(usesBos),
    clean_up_tokenization_spaces: false,
    model_max_length: dims.positions,
    tokenizer_class: sentencePiece ? 'LlamaTokenizerFast' : arch === 'gpt2' ? 'GPT2Tokenizer' : arch === 'qwen2' ? 'Qwen2Tokenizer' : 'PreTrainedTokenizerFast',
  }
  const generationConfig = {
    bos_token_id: config.bos_token_id,
    eos_token_id: arch === 'gpt2' ? idOf(eosToken) : [idOf('<|im_end|>'), idOf(sentencePiece ? '</s>' : '<|endoftext|>')],
    transformers_version: '4.46.0',
  }

  await mkdir(options.dir, { recursive: true })
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n'
  await writeFile(join(options.dir, 'config.json'), json(config))
  await writeFile(join(options.dir, 'generation_config.json'), json(generationConfig))
  await writeFile(join(options.dir, 'tokenizer.json'), json(tokenizerJson))
  await writeFile(join(options.dir, 'tokenizer_config.json'), json(tokenizerConfig))
  await writeSafetensorsFile(join(options.dir, 'model.safetensors'), weights, { metadata: { format: 'pt' } })
  return { dir: options.dir, config, weights }
}

type Dims = {
  hidden: number
  layers: number
  heads: number
  kvHeads: number
  headDim: number
  intermediate: number
  vocab: number
  positions: number
  tie: boolean
}

function llamaLikeConfig(arch: TinyFamily, d: Dims, options: TinyModelOptions, bos: number, eos: number): Record<string, unknown> {
  const common = {
    architectures: [HF_CLASS[arch]],
    attention_dropout: 0.0,
    bos_token_id: bos,
    eos_token_id: eos,
    hidden_act: 'silu',
    hidden_size: d.hidden,
    initializer_range: options.initStd ?? 0.02,
    intermediate_size: d.intermediate,
    max_position_embeddings: d.positions,
    model_type: arch,
    num_attention_heads: d.heads,
    num_hidden_layers: d.layers,
    num_key_value_heads: d.kvHeads,
    rms_norm_eps: 1e-6,
    rope_theta: options.ropeTheta ?? { llama: 500000.0, mistral: 1000000.0, qwen2: 1000000.0, phi3: 10000.0, gemma2: 10000.0, gpt2: 0 }[arch],
    tie_word_embeddings: d.tie,
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: d.vocab,
  }
  if (arch === 'qwen2') {
    return { ...common, max_window_layers: d.layers, rope_scaling: null, sliding_window: d.positions, use_sliding_window: false }
  }
  if (arch === 'mistral') return { ...common, head_dim: d.headDim, sliding_window: options.slidingWindow ?? null }
  if (arch === 'gemma2') {
    // As Gemma-2-2B's config.json, scaled down: queries scaled by head_dim^-½ (query_pre_attn_scalar).
    const caps = options.softcaps ?? { attention: 50.0, final: 30.0 }
    const { hidden_act: _silu, ...rest } = common
    return {
      ...rest,
      attention_bias: false,
      attn_logit_softcapping: caps.attention,
      cache_implementation: 'hybrid',
      final_logit_softcapping: caps.final,
      head_dim: d.headDim,
      hidden_act: 'gelu_pytorch_tanh',
      hidden_activation: 'gelu_pytorch_tanh',
      pad_token_id: 0,
      query_pre_attn_scalar: d.headDim,
      sliding_window: options.slidingWindow ?? 4096,
    }
  }
  if (arch === 'phi3') {
    // As Phi-3-mini's config.json: rms_norm_eps 1e-5, the original context length always stated.
    const lr = options.longRope
    return {
      ...common,
      attention_bias: false,
      embd_pdrop: 0.0,
      original_max_position_embeddings: lr ? lr.originalMaxPositionEmbeddings : d.positions,
      pad_token_id: eos,
      resid_pdrop: 0.0,
      rms_norm_eps: 1e-5,
      rope_scaling: lr ? { long_factor: lr.longFactor, short_factor: lr.shortFactor, type: 'longrope' } : null,
      sliding_window: options.slidingWindow ?? null,
    }
  }
  const rs = options.ropeScaling
  return {
    ...common,
    attention_bias: false,
    head_dim: d.headDim,
    mlp_bias: false,
    pretraining_tp: 1,
    rope_scaling: rs
      ? {
          factor: rs.factor,
          high_freq_factor: rs.highFreqFactor,
          low_freq_factor: rs.lowFreqFactor,
          original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
          rope_type: 'llama3',
        }
      : null,
  }
}

function gpt2Config(d: Dims, bos: number, eos: number): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: bos,
    embd_pdrop: 0.1,
    eos_token_id: eos,
    initializer_range: 0.02,
    layer_norm_epsilon: 1e-5,
    model_type: 'gpt2',
    n_ctx: d.positions,
    n_embd: d.hidden,
    n_head: d.heads,
    n_inner: null,
    n_layer: d.layers,
    n_positions: d.positions,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.1,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: d.vocab,
  }
}

function randomTensor(shape: number[], random: Random, std: number, mean = 0): HostTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1))
  for (let i = 0; i < data.length; i++) data[i] = mean + std * random.normal()
  return { shape, data }
}

/**
 * Norm scales are 1 ± noise rather than exactly 1, so a test that forgets to apply one fails.
 * Tensors are inserted in HF's module order. Phi-3 packs q, k, v in one qkv_proj
 * [(H + 2·Hkv)·Dh, D] and gate, up in one gate_up_proj [2I, D] (gate first).
 */
function llamaLikeWeights(arch: TinyFamily, d: Dims, random: Random, std: number): HostTensors {
  const w: HostTensors = new Map()
  const q = d.heads * d.headDim
  const kv = d.kvHeads * d.headDim
  const put = (name: string, shape: number[]) => w.set(name, randomTensor(shape, random, std))
  const normMean = arch === 'gemma2' ? 0 : 1
  put('model.embed_tokens.weight', [d.vocab, d.hidden])
  for (let l = 0; l < d.layers; l++) {
    const p = `model.layers.${l}`
    if (arch === 'phi3') {
      put(`${p}.self_attn.o_proj.weight`, [d.hidden, q])
      put(`${p}.self_attn.qkv_proj.weight`, [q + 2 * kv, d.hidden])
      put(`${p}.mlp.gate_up_proj.weight`, [2 * d.intermediate, d.hidden])
    } else {
      for (const [name, rows] of [['q', q], ['k', kv], ['v', kv]] as const) {
        put(`${p}.self_attn.${name}_proj.weight`, [rows, d.hidden])
        if (arch === 'qwen2') put(`${p}.self_attn.${name}_proj.bias`, [rows])
      }
      put(`${p}.self_attn.o_proj.weight`, [d.hidden, q])
      put(`${p}.mlp.gate_proj.weight`, [d.intermediate, d.hidden])
      put(`${p}.mlp.up_proj.weight`, [d.intermediate, d.hidden])
    }
    put(`${p}.mlp.down_proj.weight`, [d.hidden, d.intermediate])
    // Gemma's RMSNorm multiplies by (1 + weight): its gains are stored around 0, and it has two more.
    const norms = arch === 'gemma2' ? ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm'] : ['input_layernorm', 'post_attention_layernorm']
    for (const norm of norms) w.set(`${p}.${norm}.weight`, randomTensor([d.hidden], random, 0.1, normMean))
  }
  w.set('model.norm.weight', randomTensor([d.hidden], random, 0.1, normMean))
  if (!d.tie) put('lm_head.weight', [d.vocab, d.hidden])
  return w
}

/** GPT-2 uses Conv1D: weights are stored [in, out], the transpose of nn.Linear. */
function gpt2Weights(d: Dims, random: Random, std: number): HostTensors {
  const w: HostTensors = new Map()
  w.set('transformer.wte.weight', randomTensor([d.vocab, d.hidden], random, std))
  w.set('transformer.wpe.weight', randomTensor([d.positions, d.hidden], random, std))
  for (let l = 0; l < d.layers; l++) {
    const p = `transformer.h.${l}`
    w.set(`${p}.ln_1.weight`, randomTensor([d.hidden], random, 0.1, 1))
    w.set(`${p}.ln_1.bias`, randomTensor([d.hidden], random, std))
    w.set(`${p}.attn.c_attn.weight`, randomTensor([d.hidden, 3 * d.hidden], random, std))
    w.set(`${p}.attn.c_attn.bias`, randomTensor([3 * d.hidden], random, std))
    w.set(`${p}.attn.c_proj.weight`, randomTensor([d.hidden, d.hidden], random, std))
    w.set(`${p}.attn.c_proj.bias`, randomTensor([d.hidden], random, std))
    w.set(`${p}.ln_2.weight`, randomTensor([d.hidden], random, 0.1, 1))
    w.set(`${p}.ln_2.bias`, randomTensor([d.hidden], random, std))
    w.set(`${p}.mlp.c_fc.weight`, randomTensor([d.hidden, d.intermediate], random, std))
    w.set(`${p}.mlp.c_fc.bias`, randomTensor([d.intermediate], random, std))
    w.set(`${p}.mlp.c_proj.weight`, randomTensor([d.intermediate, d.hidden], random, std))
    w.set(`${p}.mlp.c_proj.bias`, randomTensor([d.hidden], random, std))
  }
  w.set('transformer.ln_f.weight', randomTensor([d.hidden], random, 0.1, 1))
  w.set('transformer.ln_f.bias', randomTensor([d.hidden], random, std))
  return w
}

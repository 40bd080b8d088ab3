import t from 'tap'
import { parseHfConfig } from '../../src/trainer/io/hf-config.ts'

const llama32_1b = {
  architectures: ['LlamaForCausalLM'], bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], head_dim: 64, hidden_size: 2048,
  intermediate_size: 8192, max_position_embeddings: 131072, model_type: 'llama', num_attention_heads: 32, num_hidden_layers: 16,
  num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0, tie_word_embeddings: true, vocab_size: 128256,
}

t.test('Llama-3.2 config: GQA, llama3 rope scaling, tied, list eos', async (t) => {
  const c = parseHfConfig(llama32_1b)
  t.match(c, { architecture: 'llama', hfArchitecture: 'LlamaForCausalLM', hiddenSize: 2048, numHeads: 32, numKvHeads: 8, headDim: 64, numLayers: 16, intermediateSize: 8192, vocabSize: 128256, normEps: 1e-5, ropeTheta: 500000, tieWordEmbeddings: true, attentionBias: false, bosTokenId: 128000, eosTokenId: 128001 })
  t.same(c.ropeScaling, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 })
  t.equal(c.raw, llama32_1b, 'raw config kept verbatim')
})

t.test('TinyLlama / SmolLM style: defaults for head_dim, kv heads, rope_theta; old "type" key', async (t) => {
  const c = parseHfConfig({ architectures: ['LlamaForCausalLM'], hidden_size: 576, intermediate_size: 1536, max_position_embeddings: 2048, num_attention_heads: 9, num_hidden_layers: 30, rms_norm_eps: 1e-5, vocab_size: 49152, tie_word_embeddings: true })
  t.equal(c.headDim, 64)
  t.equal(c.numKvHeads, 9)
  t.equal(c.ropeTheta, 10000)
  t.equal(c.ropeScaling, null)
  t.same(parseHfConfig({ ...llama32_1b, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling, { type: 'linear', factor: 2 })
  t.equal(parseHfConfig({ ...llama32_1b, rope_scaling: null, tie_word_embeddings: undefined }).tieWordEmbeddings, false, 'Llama default is untied')
  t.throws(() => parseHfConfig({ ...llama32_1b, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /unsupported rope_scaling type "yarn"/)
})

t.test('Mistral maps onto llama, with its sliding window', async (t) => {
  const c = parseHfConfig({ ...llama32_1b, architectures: ['MistralForCausalLM'], rope_scaling: null, head_dim: undefined, hidden_size: 4096, num_attention_heads: 32 })
  t.equal(c.architecture, 'llama')
  t.equal(c.headDim, 128)
  t.equal(c.slidingWindow, null, 'Mistral v0.2+ (sliding_window absent or null): full attention')
  t.equal(parseHfConfig({ ...llama32_1b, architectures: ['MistralForCausalLM'], rope_scaling: null, sliding_window: 4096 }).slidingWindow, 4096, 'Mistral v0.1')
  t.equal(parseHfConfig({ ...llama32_1b, sliding_window: 4096 }).slidingWindow, null, 'Llama ignores the key, as transformers does')
  t.throws(() => parseHfConfig({ ...llama32_1b, architectures: ['MistralForCausalLM'], rope_scaling: null, sliding_window: 0 }), /sliding_window must be a positive integer or null/)
})

// microsoft/Phi-3.5-mini-instruct's config.json, its 48-long factor lists shortened to the pattern.
const phi35mini = {
  architectures: ['Phi3ForCausalLM'], attention_bias: false, bos_token_id: 1, eos_token_id: 32000, hidden_act: 'silu', hidden_size: 3072,
  intermediate_size: 8192, max_position_embeddings: 131072, model_type: 'phi3', num_attention_heads: 32, num_hidden_layers: 32,
  num_key_value_heads: 32, original_max_position_embeddings: 4096, pad_token_id: 32000, rms_norm_eps: 1e-5,
  rope_scaling: { long_factor: Array.from({ length: 48 }, (_, i) => 1 + i), short_factor: Array.from({ length: 48 }, () => 1), type: 'longrope' },
  rope_theta: 10000.0, sliding_window: 262144, tie_word_embeddings: false, vocab_size: 32064,
}

t.test('Phi-3.5-mini: longrope with the attention factor transformers derives, its sliding window', async (t) => {
  const c = parseHfConfig(phi35mini)
  t.match(c, { architecture: 'phi3', hfArchitecture: 'Phi3ForCausalLM', headDim: 96, numKvHeads: 32, maxPositions: 131072, normEps: 1e-5, slidingWindow: 262144, tieWordEmbeddings: false })
  const rs = c.ropeScaling
  if (rs?.type !== 'longrope') throw new Error('expected longrope')
  t.equal(rs.originalMaxPositionEmbeddings, 4096)
  t.equal(rs.longFactor.length, 48)
  t.ok(Math.abs(rs.attentionFactor - Math.sqrt(1 + Math.log(32) / Math.log(4096))) < 1e-12, `attention factor ${rs.attentionFactor} (about 1.19)`)
  t.equal((parseHfConfig({ ...phi35mini, rope_scaling: { ...phi35mini.rope_scaling, type: 'su' } }).ropeScaling as { type: string }).type, 'longrope', 'Phi-3-mini-128k\'s old name "su"')
  t.equal((parseHfConfig({ ...phi35mini, rope_scaling: { ...phi35mini.rope_scaling, attention_factor: 1.5 } }).ropeScaling as { attentionFactor: number }).attentionFactor, 1.5, 'a stated attention_factor wins')
  // Phi-3-mini-4k: no scaling, window 2047.
  const mini4k = parseHfConfig({ ...phi35mini, max_position_embeddings: 4096, rope_scaling: null, sliding_window: 2047 })
  t.equal(mini4k.ropeScaling, null)
  t.equal(mini4k.slidingWindow, 2047)
})

t.test('what Phi-3 support does not cover is refused by name', async (t) => {
  t.throws(() => parseHfConfig({ ...phi35mini, rope_scaling: { type: 'yarn', factor: 4 } }), /unsupported rope_scaling type "yarn" for phi3 \(supported: longrope, su\)/)
  t.throws(() => parseHfConfig({ ...phi35mini, partial_rotary_factor: 0.75 }), /partial_rotary_factor 0.75 is not supported/)
  t.throws(() => parseHfConfig({ ...llama32_1b, rope_scaling: { type: 'longrope', long_factor: [1], short_factor: [1] } }), /unsupported rope_scaling type "longrope" for llama/)
  t.throws(() => parseHfConfig({ ...phi35mini, rope_scaling: { type: 'longrope', short_factor: [1] } }), /rope_scaling.long_factor must be a list of numbers/)
})

// google/gemma-2-2b-it's config.json.
const gemma2_2b = {
  architectures: ['Gemma2ForCausalLM'], attention_bias: false, attn_logit_softcapping: 50.0, bos_token_id: 2, cache_implementation: 'hybrid',
  eos_token_id: [1, 107], final_logit_softcapping: 30.0, head_dim: 256, hidden_act: 'gelu_pytorch_tanh', hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 2304, intermediate_size: 9216, max_position_embeddings: 8192, model_type: 'gemma2', num_attention_heads: 8, num_hidden_layers: 26,
  num_key_value_heads: 4, pad_token_id: 0, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_theta: 10000.0, sliding_window: 4096, vocab_size: 256000,
}

t.test('Gemma-2: head_dim apart from hidden / heads, caps, window, tied by default', async (t) => {
  const c = parseHfConfig(gemma2_2b)
  t.match(c, { architecture: 'gemma2', headDim: 256, numHeads: 8, numKvHeads: 4, slidingWindow: 4096, tieWordEmbeddings: true, eosTokenId: 1,
    gemma2: { queryPreAttnScalar: 256, attnLogitSoftcap: 50, finalLogitSoftcap: 30 } })
  t.match(parseHfConfig({ ...gemma2_2b, attn_logit_softcapping: null, final_logit_softcapping: null }).gemma2, { attnLogitSoftcap: null, finalLogitSoftcap: null })
  // gemma-2-27b: 46 layers, query_pre_attn_scalar = hidden / heads = 144, which llama.cpp derives too.
  t.equal(parseHfConfig({ ...gemma2_2b, num_hidden_layers: 46, hidden_size: 4608, num_attention_heads: 32, head_dim: 128, query_pre_attn_scalar: 144 }).gemma2?.queryPreAttnScalar, 144)
  t.equal(parseHfConfig({ ...gemma2_2b, sliding_window: undefined }).slidingWindow, 4096, 'Gemma2Config\'s default window')
})

t.test('what Gemma-2 support does not cover is refused by name', async (t) => {
  t.throws(() => parseHfConfig({ ...gemma2_2b, query_pre_attn_scalar: 144 }), /query_pre_attn_scalar 144 is not supported \(llama.cpp scales attention by 256\^-1\/2/)
  t.throws(() => parseHfConfig({ ...gemma2_2b, hidden_activation: 'gelu' }), /hidden_activation gelu is not supported/)
  t.throws(() => parseHfConfig({ ...gemma2_2b, tie_word_embeddings: false }), /tie_word_embeddings false is not supported/)
  t.throws(() => parseHfConfig({ ...gemma2_2b, layer_types: Array(26).fill('full_attention') }), /layer_types must alternate/)
  t.throws(() => parseHfConfig({ ...gemma2_2b, rope_scaling: { rope_type: 'linear', factor: 2 } }), /unsupported rope_scaling type "linear" for gemma2 \(supported: none\)/)
  t.throws(() => parseHfConfig({ ...gemma2_2b, attn_logit_softcapping: 0 }), /attn_logit_softcapping must be a positive number or null/)
})

t.test('Qwen2 has attention bias', async (t) => {
  const c = parseHfConfig({ architectures: ['Qwen2ForCausalLM'], hidden_size: 896, intermediate_size: 4864, max_position_embeddings: 32768, num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true, vocab_size: 151936, bos_token_id: 151643, eos_token_id: 151645 })
  t.match(c, { architecture: 'qwen2', attentionBias: true, headDim: 64, numKvHeads: 2, ropeTheta: 1e6, eosTokenId: 151645, slidingWindow: null })
  t.throws(() => parseHfConfig({ ...c.raw, use_sliding_window: true, sliding_window: 4096 }), /Qwen2 with use_sliding_window is not supported/)
})

t.test('GPT-2 uses its own key names and is always tied', async (t) => {
  const c = parseHfConfig({ architectures: ['GPT2LMHeadModel'], n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, n_ctx: 1024, layer_norm_epsilon: 1e-5, n_inner: null, vocab_size: 50257, bos_token_id: 50256, eos_token_id: 50256 })
  t.match(c, { architecture: 'gpt2', hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 12, headDim: 64, intermediateSize: 3072, maxPositions: 1024, normEps: 1e-5, tieWordEmbeddings: true, attentionBias: true })
  t.equal(parseHfConfig({ architectures: ['GPT2LMHeadModel'], n_embd: 64, n_layer: 1, n_head: 2, n_positions: 32, n_inner: 100, vocab_size: 10 }).intermediateSize, 100)
})

t.test('other architectures are refused by name, listing the supported ones', async (t) => {
  t.throws(() => parseHfConfig({ architectures: ['GemmaForCausalLM'] }), /unsupported model architecture GemmaForCausalLM \(supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, GPT2LMHeadModel\)/)
  t.throws(() => parseHfConfig({}), /no "architectures" entry/)
})

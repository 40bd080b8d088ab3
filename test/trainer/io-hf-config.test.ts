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

t.test('Mistral maps onto llama', async (t) => {
  const c = parseHfConfig({ ...llama32_1b, architectures: ['MistralForCausalLM'], rope_scaling: null, head_dim: undefined, hidden_size: 4096, num_attention_heads: 32 })
  t.equal(c.architecture, 'llama')
  t.equal(c.headDim, 128)
})

t.test('Qwen2 has attention bias', async (t) => {
  const c = parseHfConfig({ architectures: ['Qwen2ForCausalLM'], hidden_size: 896, intermediate_size: 4864, max_position_embeddings: 32768, num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true, vocab_size: 151936, bos_token_id: 151643, eos_token_id: 151645 })
  t.match(c, { architecture: 'qwen2', attentionBias: true, headDim: 64, numKvHeads: 2, ropeTheta: 1e6, eosTokenId: 151645 })
})

t.test('GPT-2 uses its own key names and is always tied', async (t) => {
  const c = parseHfConfig({ architectures: ['GPT2LMHeadModel'], n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, n_ctx: 1024, layer_norm_epsilon: 1e-5, n_inner: null, vocab_size: 50257, bos_token_id: 50256, eos_token_id: 50256 })
  t.match(c, { architecture: 'gpt2', hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 12, headDim: 64, intermediateSize: 3072, maxPositions: 1024, normEps: 1e-5, tieWordEmbeddings: true, attentionBias: true })
  t.equal(parseHfConfig({ architectures: ['GPT2LMHeadModel'], n_embd: 64, n_layer: 1, n_head: 2, n_positions: 32, n_inner: 100, vocab_size: 10 }).intermediateSize, 100)
})

t.test('other architectures are refused by name, listing the supported ones', async (t) => {
  t.throws(() => parseHfConfig({ architectures: ['GemmaForCausalLM'] }), /unsupported model architecture GemmaForCausalLM \(supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, GPT2LMHeadModel\)/)
  t.throws(() => parseHfConfig({}), /no "architectures" entry/)
})

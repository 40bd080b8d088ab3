// What a job may choose about how it is trained and exported (Skillet's extensions to a method's
// hyperparameters), shared by the API that checks a request and the trainer that runs it.

/** GGUF file types the trainer writes (llama.cpp's names; Q4_K_M is llama-quantize's mix). */
export const GGUF_FILE_TYPES = ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_K_M'] as const
export type GgufFileType = (typeof GGUF_FILE_TYPES)[number]

/** LoRA-adaptable projections by their Hugging Face module names, per architecture family. */
export const LLAMA_LORA_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const
/** Phi-3's fused projections, as PEFT names them (q/k/v in one qkv_proj, gate and up in one gate_up_proj). */
export const PHI3_LORA_MODULES = ['qkv_proj', 'o_proj', 'gate_up_proj', 'down_proj'] as const
export const GPT2_LORA_MODULES = ['c_attn', 'c_proj', 'c_fc'] as const
/** Every name above, once each. */
export const LORA_MODULES = [...LLAMA_LORA_MODULES, 'qkv_proj', 'gate_up_proj', ...GPT2_LORA_MODULES] as const

/** How the weights are trained: LoRA adapters on a frozen base, the same on a quantised base (QLoRA), or every weight. */
export const ADAPTERS = ['lora', 'qlora', 'full'] as const
export type Adapter = (typeof ADAPTERS)[number]

/** QLoRA's frozen base: int8 per output channel, or 4-bit blocks of 32 (Q4_0's rule); 4 unless the job says. */
export const QLORA_BITS = [4, 8] as const
export const DEFAULT_QLORA_BITS = 4

/** Limits of the evaluation settings a request may ask for (README, Evaluation during training). */
export const EVALUATION_LIMITS = { maxEvalEvery: 1_000_000, maxPatience: 1000 } as const

/** Limits of the LoRA shape a request may ask for. */
export const LORA_LIMITS = { maxRank: 256, maxAlpha: 4096 } as const

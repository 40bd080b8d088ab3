// A LoRA adapter in Hugging Face PEFT's on-disk format: adapter_config.json plus
// adapter_model.safetensors with names like
//   base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight  [r, in]
//   base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight  [out, r]
// so `PeftModel.from_pretrained(base, dir)` (and vLLM / llama.cpp's converter) can load it.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HostTensors, LoraAdapter, LoraModuleWeights, ModelConfig } from '../model/types.ts'
import { readSafetensorsFile, writeSafetensorsFile } from '../io/safetensors.ts'

const PREFIX = 'base_model.model.'

export function peftAdapterConfig(config: ModelConfig, adapter: LoraAdapter, baseModelName: string): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModelName,
    bias: 'none',
    // GPT-2's Conv1D stores weights [in, out]; PEFT must know to transpose the update.
    fan_in_fan_out: config.architecture === 'gpt2',
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: adapter.alpha,
    lora_dropout: adapter.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: adapter.rank,
    rank_pattern: {},
    revision: null,
    target_modules: [...adapter.targetModules].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  }
}

export async function writePeftAdapter(dir: string, config: ModelConfig, adapter: LoraAdapter, baseModelName: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const tensors: HostTensors = new Map()
  for (const [module, { a, b }] of [...adapter.modules].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (a.shape[0] !== adapter.rank || b.shape[1] !== adapter.rank) {
      throw new Error(`LoRA ${module}: A ${JSON.stringify(a.shape)} / B ${JSON.stringify(b.shape)} do not match rank ${adapter.rank}`)
    }
    tensors.set(`${PREFIX}${module}.lora_A.weight`, a)
    tensors.set(`${PREFIX}${module}.lora_B.weight`, b)
  }
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(peftAdapterConfig(config, adapter, baseModelName), null, 2) + '\n')
  await writeSafetensorsFile(join(dir, 'adapter_model.safetensors'), tensors, { metadata: { format: 'pt' } })
}

export async function readPeftAdapter(dir: string): Promise<LoraAdapter & { fanInFanOut: boolean; baseModelName: string }> {
  const cfg = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>
  if (cfg.peft_type !== 'LORA') throw new Error(`not a LoRA adapter: peft_type ${String(cfg.peft_type)}`)
  const { tensors } = await readSafetensorsFile(join(dir, 'adapter_model.safetensors'))
  const modules = new Map<string, Partial<LoraModuleWeights>>()
  for (const [name, tensor] of tensors) {
    const match = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(name)
    if (!match) throw new Error(`unexpected tensor in adapter: ${name}`)
    const entry = modules.get(match[1]) ?? {}
    if (match[2] === 'A') entry.a = tensor
    else entry.b = tensor
    modules.set(match[1], entry)
  }
  for (const [module, entry] of modules) if (!entry.a || !entry.b) throw new Error(`adapter module ${module} lacks lora_A or lora_B`)
  return {
    rank: cfg.r as number,
    alpha: cfg.lora_alpha as number,
    dropout: (cfg.lora_dropout as number | undefined) ?? 0,
    targetModules: cfg.target_modules as string[],
    modules: modules as Map<string, LoraModuleWeights>,
    fanInFanOut: cfg.fan_in_fan_out === true,
    baseModelName: String(cfg.base_model_name_or_path ?? ''),
  }
}

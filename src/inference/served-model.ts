// A model a request may use, resolved for the caller's project: its public id, and where its
// weights are — a GGUF in the blob store (embedded engine), or a base model plus an optional
// LoRA adapter prefix (a remote engine that serves adapters, like vLLM).
export interface ServedModel {
  /** The id the caller used: a base model id, `ft:…` or `ft:…:ckpt-step-N`. */
  id: string
  /** The base model this one was trained from (itself for a base model). */
  baseModel: string
  /** Blob key of the GGUF the embedded engine loads. */
  ggufKey: () => Promise<string>
  /** Blob prefix of the PEFT adapter (adapter_config.json, adapter_model.safetensors); null for a base model or full fine-tune. */
  adapterPrefix: string | null
}

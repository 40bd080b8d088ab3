// A model's tokenizer (tokenizer.json through @huggingface/tokenizers) plus its chat template
// (Jinja through @huggingface/jinja), with Python transformers' apply_chat_template semantics.
import { Tokenizer } from '@huggingface/tokenizers'
import { Template } from '@huggingface/jinja'

/** A chat message as the template sees it (OpenAI shape; extra keys pass through untouched). */
export interface TemplateMessage {
  role: string
  content?: unknown
  tool_calls?: unknown
  tool_call_id?: string
  name?: string
  [key: string]: unknown
}

export interface ChatTemplateOptions {
  tools?: unknown[]
  addGenerationPrompt?: boolean
}

/** tokenizer_config.json stores special tokens as a string or as a serialised AddedToken. */
function specialTokenText(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content
  }
  return null
}

export class TextTokenizer {
  readonly tokenizer: Tokenizer
  readonly template: Template | null
  readonly bosToken: string | null
  readonly eosToken: string | null
  readonly padToken: string | null
  readonly unkToken: string | null

  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>, chatTemplate: string | null) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig)
    this.template = chatTemplate === null ? null : new Template(chatTemplate)
    this.bosToken = specialTokenText(tokenizerConfig.bos_token)
    this.eosToken = specialTokenText(tokenizerConfig.eos_token)
    this.padToken = specialTokenText(tokenizerConfig.pad_token)
    this.unkToken = specialTokenText(tokenizerConfig.unk_token)
  }

  get bosTokenId(): number | null {
    return this.bosToken === null ? null : (this.tokenizer.token_to_id(this.bosToken) ?? null)
  }

  get eosTokenId(): number | null {
    return this.eosToken === null ? null : (this.tokenizer.token_to_id(this.eosToken) ?? null)
  }

  /** The pad id for batching: the pad token, else EOS (as most training scripts do), else 0. */
  get padTokenId(): number {
    const pad = this.padToken === null ? undefined : this.tokenizer.token_to_id(this.padToken)
    return pad ?? this.eosTokenId ?? 0
  }

  tokenToId(token: string): number | null {
    return this.tokenizer.token_to_id(token) ?? null
  }

  /**
   * Encodes text. Special-token strings in the text ("<|im_end|>") become their ids, as in
   * transformers. `addSpecialTokens` runs the post-processor (e.g. Llama-3 prepends BOS).
   */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: options.skipSpecialTokens ?? false })
  }

  /**
   * Renders the chat template like transformers' apply_chat_template(tokenize=False): the
   * template gets messages, tools, add_generation_prompt and the special tokens as strings.
   */
  renderChat(messages: TemplateMessage[], options: ChatTemplateOptions = {}): string {
    if (this.template === null) throw new Error('this model has no chat template (tokenizer_config.json chat_template)')
    return this.template.render({
      messages,
      tools: options.tools ?? null,
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
      pad_token: this.padToken ?? '',
      unk_token: this.unkToken ?? '',
    })
  }

  /**
   * apply_chat_template(tokenize=True): the rendered text is encoded WITHOUT special tokens,
   * because the template already writes them (a Llama-3 template starts with {{ bos_token }};
   * letting the post-processor add another would give a double BOS).
   */
  encodeChat(messages: TemplateMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.renderChat(messages, options), { addSpecialTokens: false })
  }
}

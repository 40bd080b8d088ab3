// The tiny models' chat template: ChatML (as Qwen2 uses), with tools listed in the system turn,
// assistant tool calls as <tool_call> JSON, and an optional BOS prefix for Llama-style models.
// Written with {%- -%} so it renders the same with or without trim_blocks/lstrip_blocks.

export function chatMlTemplate(withBos: boolean): string {
  return [
    withBos ? '{{- bos_token }}' : '',
    '{%- if tools %}',
    "{{- '<|im_start|>system\\n' }}",
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] + '\\n\\n' }}{%- endif %}",
    "{{- '# Tools\\n\\n<tools>' }}",
    "{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}",
    "{{- '\\n</tools><|im_end|>\\n' }}",
    '{%- elif messages[0][\'role\'] == \'system\' %}',
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
    '{%- endif %}',
    '{%- for message in messages %}',
    "{%- if message['role'] == 'system' and loop.first %}",
    "{%- elif message['role'] == 'assistant' %}",
    "{{- '<|im_start|>assistant\\n' }}",
    "{%- if message['content'] %}{{- message['content'] }}{%- endif %}",
    "{%- if message['tool_calls'] %}{%- for call in message['tool_calls'] %}",
    "{{- '\\n<tool_call>\\n{\"name\": \"' + call['function']['name'] + '\", \"arguments\": ' }}",
    "{%- if call['function']['arguments'] is string %}{{- call['function']['arguments'] }}{%- else %}{{- call['function']['arguments'] | tojson }}{%- endif %}",
    "{{- '}\\n</tool_call>' }}",
    '{%- endfor %}{%- endif %}',
    "{{- '<|im_end|>\\n' }}",
    '{%- else %}',
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}",
    '{%- endif %}',
    '{%- endfor %}',
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
  ].join('')
}

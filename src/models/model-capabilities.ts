import type { ServedModel } from '../inference/model-catalog.service';
import type { ModelBundle } from './model-bundle';

/**
 * What a gRPC-served model can do, as /v1/models shows it: the parts that depend on the model's
 * files (its template, its tokenizer's source) and on its engines (vision).
 */
export function modelCapabilities(m: ServedModel, bundle: ModelBundle): Record<string, unknown> {
  return {
    chat: bundle.tokenizer.chatTemplate !== undefined,
    tools: bundle.templateTakesTools,
    vision: acceptsImages(m, bundle),
    tokenizer: { source: bundle.source, vocab_size: bundle.tokenizer.vocabSize },
  };
}

/**
 * Images are accepted when every engine says it takes them, or when the engines' answer is only a
 * default (SGLang) and the model's own files describe a vision tower.
 */
export function acceptsImages(m: ServedModel, bundle: ModelBundle): boolean {
  return m.supportsVision || (m.visionFromFiles && bundle.vision);
}

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
    vision: m.supportsVision,
    tokenizer: { source: bundle.source, vocab_size: bundle.tokenizer.vocabSize },
  };
}

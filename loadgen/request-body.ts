import type { Message } from './workloads';

export type Api = 'chat' | 'completions';

/** The endpoint path for an API flavour, under a base URL that may or may not end in `/` or `/v1`. */
export function endpoint(base: string, api: Api): URL {
  const trimmed = base.replace(/\/+$/, '');
  const root = trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
  return new URL(`${root}/${api === 'chat' ? 'chat/completions' : 'completions'}`);
}

/**
 * The JSON body. Streaming requests ask for a final usage chunk (`stream_options.include_usage`)
 * because that is where `prompt_tokens_details.cached_tokens` arrives.
 */
export function requestBody(api: Api, model: string, messages: Message[], stream: boolean, maxTokens: number): string {
  const common = { model, max_tokens: maxTokens, stream, ...(stream ? { stream_options: { include_usage: true } } : {}) };
  if (api === 'chat') return JSON.stringify({ ...common, messages });
  return JSON.stringify({ ...common, prompt: messages.map((m) => m.content).join('\n\n') });
}

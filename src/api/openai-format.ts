import type { FinishReason, Usage } from '../inference/inference-types';

export function usageBody(u: Usage): Record<string, unknown> {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
  };
}

/** What a chat choice can finish with: the engine's reasons, or tool_calls when the output was calls. */
export type ChatFinish = FinishReason | 'tool_calls';

/** OpenAI has no 'abort' finish reason; an engine-side abort reads as a stop. */
function finish(reason: ChatFinish | null): 'stop' | 'length' | 'tool_calls' | null {
  return reason === null ? null : reason === 'length' || reason === 'tool_calls' ? reason : 'stop';
}

/** A non-streaming chat completion around an assistant message built by the caller (reasoning, tool calls). */
export function chatCompletionOf(id: string, created: number, model: string, message: Record<string, unknown>, reason: ChatFinish, usage: Usage, logprobs: unknown = null): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs, finish_reason: finish(reason) }],
    usage: usageBody(usage),
  };
}

export function chatCompletion(id: string, created: number, model: string, text: string, reason: FinishReason, usage: Usage, logprobs: unknown = null): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs, finish_reason: finish(reason) }],
    usage: usageBody(usage),
  };
}

export function chatChunk(id: string, created: number, model: string, delta: Record<string, unknown> | null, reason: ChatFinish | null, logprobs: unknown = null): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
    choices: delta === null ? [] : [{ index: 0, delta, logprobs, finish_reason: finish(reason) }],
  };
}

/**
 * The serialized chunk for one piece of streamed content: the same bytes as
 * JSON.stringify(chatChunk(id, created, model, { content }, null)), with everything but the
 * text serialized once per request instead of once per token.
 */
export function chatContentChunks(id: string, created: number, model: string): (content: string) => string {
  const head = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":null,"choices":[{"index":0,"delta":{"content":`;
  const tail = '},"logprobs":null,"finish_reason":null}]}';
  return (content) => head + JSON.stringify(content) + tail;
}

export function textCompletion(id: string, created: number, model: string, choices: { text: string; reason: FinishReason; logprobs?: unknown }[], usage: Usage): Record<string, unknown> {
  return {
    id,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: null,
    choices: choices.map((c, index) => ({ index, text: c.text, logprobs: c.logprobs ?? null, finish_reason: finish(c.reason) })),
    usage: usageBody(usage),
  };
}

export function textChunk(id: string, created: number, model: string, index: number, text: string, reason: FinishReason | null, logprobs: unknown = null): Record<string, unknown> {
  return {
    id,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index, text, logprobs, finish_reason: finish(reason) }],
  };
}

import type { Tokenizer } from '@drover/tokenizer';
import type { TokenLogprob } from '../inference/inference-types';

const utf8 = new TextDecoder();

function tokenText(tokenizer: Tokenizer, id: number): { token: string; bytes: number[] } {
  const bytes = tokenizer.tokenBytes(id);
  return { token: utf8.decode(bytes), bytes: Array.from(bytes) };
}

/** Chat Completions / Responses shape: `[{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]`. */
export function chatLogprobContent(tokenizer: Tokenizer, entries: readonly TokenLogprob[], topN: number): Record<string, unknown>[] {
  return entries.map((e) => ({
    ...tokenText(tokenizer, e.id),
    logprob: e.logprob,
    top_logprobs: e.top.slice(0, topN).map((t) => ({ ...tokenText(tokenizer, t.id), logprob: t.logprob })),
  }));
}

/** Legacy Completions shape: parallel arrays, `top_logprobs` as `{token: logprob}` maps, character offsets. */
export function completionLogprobs(tokenizer: Tokenizer, entries: readonly TokenLogprob[], topN: number, offset: number): Record<string, unknown> {
  const tokens: string[] = [];
  const textOffset: number[] = [];
  let at = offset;
  for (const e of entries) {
    const t = tokenText(tokenizer, e.id).token;
    tokens.push(t);
    textOffset.push(at);
    at += t.length;
  }
  return {
    tokens,
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: topN > 0 ? entries.map((e) => Object.fromEntries(e.top.slice(0, topN).map((t) => [tokenText(tokenizer, t.id).token, t.logprob]))) : null,
    text_offset: textOffset,
  };
}

import { DroverError } from '@drover/runtime';
import type { InferenceRequest } from '../inference/inference-types';

interface SamplingBody {
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  min_p?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  repetition_penalty?: number | null;
  stop?: string | string[] | null;
  stop_token_ids?: number[] | null;
  seed?: number | null;
  n?: number | null;
  ignore_eos?: boolean;
  min_tokens?: number;
}

/** Client sampling fields → engine sampling options; omitted fields stay unset (the worker client fills defaults). */
export function samplingFrom(body: SamplingBody): InferenceRequest['sampling'] {
  if ((body.n ?? 1) !== 1) throw new DroverError('unsupported', 'Only n=1 is supported at the moment.', { param: 'n' });
  return {
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    topK: body.top_k ?? undefined,
    minP: body.min_p ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    repetitionPenalty: body.repetition_penalty ?? undefined,
    stopTokenIds: body.stop_token_ids ?? undefined,
    seed: body.seed ?? undefined,
    ignoreEos: body.ignore_eos,
    minNewTokens: body.min_tokens,
  };
}

/** Chat's `logprobs` / `top_logprobs` → what to ask the engine for (top_logprobs needs logprobs, as OpenAI says). */
export function logprobsRequest(body: { logprobs?: boolean | null; top_logprobs?: number | null }): { topN: number } | undefined {
  if (body.top_logprobs !== undefined && body.top_logprobs !== null && body.logprobs !== true) {
    throw new DroverError('invalid_request', "'top_logprobs' needs 'logprobs' set to true.", { param: 'top_logprobs' });
  }
  return body.logprobs === true ? { topN: body.top_logprobs ?? 0 } : undefined;
}

export function stopStrings(stop: string | string[] | null | undefined): string[] {
  if (stop === undefined || stop === null) return [];
  const list = Array.isArray(stop) ? stop : [stop];
  return list.filter((s) => s.length > 0);
}

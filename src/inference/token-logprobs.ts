import type { OutputLogprobs } from '@drover/worker-proto';
import type { TokenLogprob } from './inference-types';

/** An engine's OutputLogProbs (parallel arrays) → one entry per generated token (minus `skip`, e.g. EOS). */
export function tokenLogprobs(l: OutputLogprobs, skip?: ReadonlySet<number>): TokenLogprob[] {
  const out: TokenLogprob[] = [];
  for (let i = 0; i < l.tokenIds.length; i++) {
    if (skip?.has(l.tokenIds[i])) continue;
    const t = l.top[i];
    out.push({ id: l.tokenIds[i], logprob: l.tokenLogprobs[i] ?? 0, top: t ? t.tokenIds.map((id, k) => ({ id, logprob: t.values[k] ?? 0 })) : [] });
  }
  return out;
}

import { hashString32 } from '@drover/runtime';

export interface WireLogprobs {
  token_logprobs: number[];
  token_ids: number[];
  top_logprobs: { values: number[]; token_ids: number[] }[];
}

/**
 * Output log-probabilities as engines send them (OutputLogProbs): one value per generated token
 * and, when asked, the `topN` most likely tokens at that position, most likely first. The mock's
 * figures are made up but stable (a hash of token and position) and consistent: the sampled token
 * leads its top list, the others follow with lower values from the model's word vocabulary.
 */
export function mockLogprobs(ids: readonly number[], startPosition: number, topN: number, vocabulary: readonly number[]): WireLogprobs {
  const out: WireLogprobs = { token_logprobs: [], token_ids: [], top_logprobs: [] };
  ids.forEach((id, i) => {
    const h = hashString32(`${id}:${startPosition + i}`);
    const lp = -((h % 2000) / 1000) - 0.001;
    out.token_logprobs.push(lp);
    out.token_ids.push(id);
    if (topN > 0) {
      const values = [lp];
      const tokenIds = [id];
      for (let k = 1; k < topN && vocabulary.length > 0; k++) {
        let alt = vocabulary[(h + k * 7919) % vocabulary.length];
        if (tokenIds.includes(alt)) alt = vocabulary[(h + k * 7919 + 1) % vocabulary.length];
        tokenIds.push(alt);
        values.push(lp - k * 0.5);
      }
      out.top_logprobs.push({ values, token_ids: tokenIds });
    }
  });
  return out;
}

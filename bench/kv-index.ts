/**
 * `npm run bench -- kv-index --json`: the cost, on the event loop, of matching one prompt against
 * the KV-event index of 8 workers that each hold most of it, at block size 1 (SGLang's default
 * page size) and 16. The index keys blocks by token content (the gateway's own rolling hash), so a
 * lookup is one pass over the prompt plus a few dozen map lookups per worker.
 */
import { KvBlockIndex } from '@drover/radix-tree';

export const description = 'KV-event index lookup cost for long prompts at block sizes 1 and 16';

function measure(promptTokens: number, blockSize: number, workers: number): { ms_per_lookup: number; matched_tokens_best: number } {
  const idx = new KvBlockIndex();
  const ids = Array.from({ length: promptTokens }, (_, i) => (i * 7919) % 150_000);
  for (let w = 0; w < workers; w++) {
    const blocks = [];
    const held = promptTokens - w * Math.floor(promptTokens / 32);
    for (let i = 0; i + blockSize <= held; i += blockSize) blocks.push({ blockHash: `${w}:${i}`, tokenIds: ids.slice(i, i + blockSize), blockSize });
    idx.apply(`w${w}`, [{ kind: 'stored', blocks }]);
  }
  for (let k = 0; k < 20; k++) idx.matchTokens(ids);
  const rounds = 200;
  let best = 0;
  const t0 = performance.now();
  for (let k = 0; k < rounds; k++) best = Math.max(...idx.matchTokens(ids).values());
  return { ms_per_lookup: Math.round(((performance.now() - t0) / rounds) * 1000) / 1000, matched_tokens_best: best };
}

export async function run(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [tokens, block] of [[32_768, 1], [32_768, 16], [4_096, 1]] as const) out[`prompt_${tokens}_block_${block}`] = measure(tokens, block, 8);
  return { workers: 8, ...out };
}

import { describe, expect, it } from 'vitest';
import { SeededRng, VirtualScheduler } from '@drover/runtime';
import { MockEngine, type EngineResult } from '../mock-engine';

function run(sharedKvPool: boolean): { cachedAfter: number; removed: number; used: number[]; results: EngineResult[] } {
  const s = new VirtualScheduler();
  // A 512-token pool: a 128-token prefix fits, until four requests decoding 96 tokens each need room.
  const engine = new MockEngine({ clock: s, timers: s, rng: new SeededRng('pool') }, { kvCapacityTokens: 512, blockSize: 16, decodeBaseMs: 1, decodePerRunningMs: 0, eosProbability: 0, sharedKvPool });
  let removed = 0;
  engine.onKvEvents((b) => b.events.forEach((e) => (removed += e.kind === 'removed' ? e.blockHashes.length : 0)));
  const prefix = Array.from({ length: 128 }, (_, i) => 1000 + i);
  const results: EngineResult[] = [];
  const sink = { onTokens: () => undefined, onComplete: (r: EngineResult) => results.push(r), onError: () => undefined };
  engine.submit({ requestId: 'warm', inputIds: prefix, maxNewTokens: 1 }, sink);
  s.runUntilIdle();
  const used: number[] = [];
  for (let i = 0; i < 4; i++) engine.submit({ requestId: `r${i}`, inputIds: [i + 1, i + 2, i + 3, i + 4], maxNewTokens: 96 }, sink);
  const sampler = s.setInterval(() => used.push(engine.loads().numUsedTokens), 5);
  s.runUntilTime(1000);
  s.clearInterval(sampler);
  return { cachedAfter: engine.cachedPrefixTokens(prefix), removed, used, results };
}

describe('one KV pool for cached prefixes and running requests', () => {
  it('decode pressure evicts cached prefixes (and the engine says so in KV events); usage never exceeds the pool', () => {
    const shared = run(true);
    expect(shared.results.map((r) => r.finishReason)).toEqual(['length', 'length', 'length', 'length', 'length']);
    expect(shared.cachedAfter).toBeLessThan(128);
    expect(shared.removed).toBeGreaterThan(0);
    expect(Math.max(...shared.used)).toBeLessThanOrEqual(512);
  });

  it('without it (the default mock), running requests take no room and the prefix survives', () => {
    const separate = run(false);
    expect(separate.cachedAfter).toBe(128);
    expect(separate.removed).toBe(0);
  });
});

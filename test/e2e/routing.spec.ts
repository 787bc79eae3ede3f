import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { E2E_ENGINES } from '../support/engines';
import { ADMIN } from '../support/auth';

// On the personalities KV blocks carry opaque (salted) hashes: routing matches by token content.
describe.each(E2E_ENGINES)('gateway: cache-aware routing (default policy) over real workers (%s engine)', (engine) => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 4, worker: { engine, decodeBaseMs: 1, ...(engine === 'mock' ? {} : { kvHashSalt: `opaque-${engine}` }) } });
  });
  afterAll(async () => c?.close());

  const admin = async () => (await (await fetch(`${c.gateway.url}/admin/routing`, { headers: ADMIN })).json()) as { policy: string; models: { model: string; treeNodes: number; decisions: Record<string, number>; kvEventWorkers: number }[] };

  it('uses cache_aware by default and sees every worker’s KV events', async () => {
    const a = await admin();
    expect(a.policy).toBe('cache_aware');
    await waitFor(async () => (await admin()).models[0]?.kvEventWorkers === 4, 5000, 'KV event streams');
  });

  it('sends every turn of a conversation to the worker holding its prefix, with cached tokens', async () => {
    for (let s = 0; s < 6; s++) {
      const messages: { role: 'system' | 'user' | 'assistant'; content: string }[] = [
        { role: 'system', content: `Session ${s}: you are an expert on topic number ${s}. `.repeat(40) },
        { role: 'user', content: 'first question' },
      ];
      const workers = new Set<string>();
      let cachedLater = 0;
      let promptLater = 0;
      for (let turn = 0; turn < 3; turn++) {
        const res = await c.client.chat.completions.create({ model: 'qwen3-mock', messages, max_tokens: 8 }).withResponse();
        workers.add(res.response.headers.get('x-drover-worker')!);
        if (turn > 0) {
          cachedLater += res.data.usage!.prompt_tokens_details!.cached_tokens!;
          promptLater += res.data.usage!.prompt_tokens;
        }
        messages.push({ role: 'assistant', content: res.data.choices[0].message.content ?? '' }, { role: 'user', content: `follow-up ${turn}` });
      }
      expect(workers.size, `session ${s}`).toBe(1);
      expect(cachedLater / promptLater).toBeGreaterThan(0.8);
    }
    const a = await admin();
    expect(a.models[0].decisions.cache_hit).toBeGreaterThanOrEqual(12);
  });

  it('spreads unrelated conversations over the fleet', async () => {
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, s) =>
        c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `unrelated topic ${s} `.repeat(30) }], max_tokens: 20 }).withResponse(),
      ),
    );
    const used = new Set(responses.map((r) => r.response.headers.get('x-drover-worker')));
    expect(used.size).toBeGreaterThanOrEqual(3);
  });
});

import { describe, expect, it } from 'vitest';
import { buildReport } from '../../loadgen/report';
import { runLoad } from '../../loadgen/runner';
import { ADMIN, TEST_API_KEY } from '../support/auth';
import { startCluster, waitFor } from '../support/cluster';
import { E2E_ENGINES, type E2eEngine } from '../support/engines';

/**
 * The bar for real engines: with the SGLang and vLLM personalities and opaque KV hashes
 * (a salt no gateway knows), a multi-turn load caches as well as on the friendly mock, whose
 * hashes and events are the gateway's best case. Routing must match blocks by their token content.
 */
describe('multi-turn cached-token ratio on real-engine personalities', () => {
  const ratioOn = async (engine: E2eEngine): Promise<number> => {
    const c = await startCluster({ workers: 4, worker: { engine, decodeBaseMs: 1, decodePerRunningMs: 0, eosProbability: 0, ...(engine === 'mock' ? {} : { kvHashSalt: `opaque-${engine}`, kvGapRate: 0.002 }) } });
    try {
      // Every worker's KV event stream is up before the load (else early turns route blind).
      const kvWorkers = async () => ((await (await fetch(`${c.gateway.url}/admin/routing`, { headers: ADMIN })).json()) as { models: { kvEventWorkers: number }[] }).models[0]?.kvEventWorkers;
      await waitFor(async () => (await kvWorkers()) === 4, 10_000, 'KV event streams');
      const { samples, elapsedMs, offeredRps } = await runLoad({ urls: [c.gateway.url], model: 'qwen3-mock', api: 'chat', stream: true, maxTokens: 8, seed: 11, timeoutMs: 20_000, workload: 'multiturn', spread: 'request', maxConnections: 16, apiKey: TEST_API_KEY, concurrency: 6, requests: 90 });
      const r = buildReport(samples, elapsedMs, offeredRps, {});
      expect(r.requests, engine).toEqual({ sent: 90, ok: 90, failed: 0 });
      return r.cached_token_ratio!;
    } finally {
      await c.close();
    }
  };

  it('sglang and vllm with an opaque --kv-hash-salt stay within 10% of the default mock', async () => {
    const ratios: Record<string, number> = {};
    for (const engine of E2E_ENGINES) ratios[engine] = await ratioOn(engine);
    expect(ratios.mock).toBeGreaterThan(0.3);
    for (const engine of ['sglang', 'vllm']) expect(Math.abs(ratios[engine] - ratios.mock) / ratios.mock, `${engine} ${JSON.stringify(ratios)}`).toBeLessThanOrEqual(0.1);
    console.log(`cached-token ratios: ${JSON.stringify(ratios)}`);
  }, 180_000);
});

import { afterEach, describe, expect, it } from 'vitest';
import { APIError } from 'openai';
import { WorkerRegistryService } from '../../src/workers/worker-registry.service';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';

/** The gateway in front of mock workers that behave like real SGLang and vLLM servers. */
describe.each(['sglang', 'vllm'] as const)('gateway against the %s personality', (engine) => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('answers chat (buffered and streamed) and routes a follow-up turn to the worker holding its prefix (opaque KV hashes)', async () => {
    c = await startCluster({ workers: 2, worker: { engine, kvHashSalt: `salt-${engine}`, kvGapRate: 0 } });
    const messages = [
      { role: 'system' as const, content: 'You are a careful assistant. '.repeat(40) },
      { role: 'user' as const, content: 'Tell me about the sea.' },
    ];
    const first = await c.client.chat.completions.create({ model: 'qwen3-mock', messages, max_tokens: 8 });
    expect(['stop', 'length']).toContain(first.choices[0].finish_reason);
    const stream = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [...messages, { role: 'assistant', content: first.choices[0].message.content ?? '' }, { role: 'user', content: 'And rivers?' }], max_tokens: 8, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let cached = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      cached = chunk.usage?.prompt_tokens_details?.cached_tokens ?? cached;
    }
    expect(['stop', 'length']).toContain(finish);
    if (finish === 'length') expect(text.length).toBeGreaterThan(0);
    // The second turn went to the worker that cached the first: most of the first prompt was cached.
    expect(cached).toBeGreaterThan(0.8 * (first.usage?.prompt_tokens ?? 0));
  });

  it(engine === 'vllm' ? "sends the seed in vLLM's sampling_params.seed" : 'refuses a seed (SGLang has no seed field) before anything reaches the engine', async () => {
    c = await startCluster({ workers: 1, worker: { engine } });
    const ask = () => c!.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'seeded' }], max_tokens: 4, seed: 1234 });
    if (engine === 'vllm') {
      await ask();
      expect(c.workers[0].receivedSampling.at(-1)?.seed).toBe(1234);
    } else {
      const err = await ask().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect(err).toMatchObject({ status: 400, param: 'seed' });
      expect(c.workers[0].receivedSampling).toHaveLength(0);
    }
  });

  it('an engine that ends every request itself never yields a 200 with finish_reason stop', async () => {
    c = await startCluster({ workers: 2, worker: { engine, faults: { engineAbortRate: 1 } } });
    for (let i = 0; i < 3; i++) {
      const err = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `hello ${i}` }], max_tokens: 8 }).then(
        (res) => res,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBeGreaterThanOrEqual(500);
      expect((err as APIError & { error?: { message?: string } }).error?.message).toBeTruthy();
    }
    // Streamed: the stream ends with an error, never a stop.
    const stream = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'stream' }], max_tokens: 8, stream: true }).catch((e: unknown) => e);
    if (stream instanceof Error) expect(stream).toBeInstanceOf(APIError);
    else {
      const finishes: (string | null)[] = [];
      await expect(
        (async () => {
          for await (const chunk of stream as AsyncIterable<{ choices: { finish_reason: string | null }[] }>) finishes.push(chunk.choices[0]?.finish_reason ?? null);
        })(),
      ).rejects.toBeTruthy();
      expect(finishes).not.toContain('stop');
    }
  });
});

describe('gateway against the sglang personality: the input limit', () => {
  it('/v1/models shows max_req_input_len (not the KV pool size) and a longer prompt is a 400', async () => {
    const c = await startCluster({ workers: 1, worker: { engine: 'sglang', maxContextLength: 512, kvCapacityTokens: 100_000 } });
    try {
      const models = await c.client.models.list();
      expect((models.data[0] as unknown as { max_model_len: number }).max_model_len).toBe(512);
      const err = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'word '.repeat(600) }], max_tokens: 4 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(400);
    } finally {
      await c.close();
    }
  });
});

describe('gateway against the sglang personality: slow health checks', () => {
  it('with --health-latency-ms 1500 a worker under load never flaps out of ready', async () => {
    const c = await startCluster({ workers: 1, worker: { engine: 'sglang', healthLatencyMs: 1500, decodeBaseMs: 5 }, gateway: { healthCheckTimeoutMs: 1000 } });
    try {
      const registry = c.gateway.app.get(WorkerRegistryService);
      const w = () => registry.list()[0];
      await waitFor(() => w().health === 'ready', 10_000, 'worker ready');
      const states = new Set<string>();
      const sampler = setInterval(() => states.add(w().health), 20);
      // Load for a while (several 1.5 s checks): eight streams of 200 tokens at a time.
      const load = Array.from({ length: 8 }, (_, i) => c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `load ${i}` }], max_tokens: 200, ...({ ignore_eos: true } as object) }));
      await Promise.all(load);
      await waitFor(() => (w().lastCheckedAt ?? 0) > 0 && registry.list()[0].consecutiveSuccesses >= 3, 15_000, 'three slow checks passed');
      clearInterval(sampler);
      expect([...states]).toEqual(['ready']);
    } finally {
      await c.close();
    }
  });
});

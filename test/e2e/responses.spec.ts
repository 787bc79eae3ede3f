import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { startCluster, type TestCluster } from '../support/cluster';
import { testConfig } from '../support/config';
import { startRedis } from '../support/redis';
import { E2E_ENGINES } from '../support/engines';

describe.each(E2E_ENGINES)('gateway: OpenAI Responses API with stored responses in Redis (%s engine)', (engine) => {
  let c: TestCluster;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let second: RunningGateway;
  let client2: OpenAI;
  beforeAll(async () => {
    redis = await startRedis();
    c = await startCluster({ workers: 1, worker: { engine }, gateway: { redisUrl: redis.url } });
    second = await startGateway(testConfig({ workerUrls: c.workers.map((w) => w.url), redisUrl: redis.url }));
    client2 = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(async () => {
    await second?.shutdown(0);
    await c?.close();
    await redis?.stop();
  });

  it('creates a response, continues it on another node by previous_response_id, and reads it back', async () => {
    const first = await c.client.responses.create({ model: 'qwen3-mock', input: 'Tell me something.', instructions: 'Be brief.', max_output_tokens: 6 });
    expect(first.id).toMatch(/^resp_/);
    expect(first.object).toBe('response');
    expect(['completed', 'incomplete']).toContain(first.status);
    expect(first.output_text.length).toBeGreaterThan(0);
    expect(first.usage?.input_tokens).toBeGreaterThan(0);

    const next = await client2.responses.create({ model: 'qwen3-mock', input: 'And more?', previous_response_id: first.id, max_output_tokens: 6 });
    // The continued prompt holds the first turn and its answer, so it is longer.
    expect(next.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens + 3);
    const fetched = await client2.responses.retrieve(first.id);
    expect(fetched.output_text).toBe(first.output_text);
  });

  it('streams response events ending in response.completed or response.incomplete', async () => {
    const stream = await c.client.responses.create({ model: 'qwen3-mock', input: 'Stream it.', max_output_tokens: 5, stream: true });
    const types: string[] = [];
    let delta = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.output_text.delta') delta += e.delta;
    }
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_text.delta');
    expect(['response.completed', 'response.incomplete']).toContain(types[types.length - 1]);
    expect(delta.length).toBeGreaterThan(0);
  });

  it('404s an unknown previous_response_id and deletes stored responses', async () => {
    await expect(c.client.responses.create({ model: 'qwen3-mock', input: 'x', previous_response_id: 'resp_nope' })).rejects.toMatchObject({ status: 404 });
    const r = await c.client.responses.create({ model: 'qwen3-mock', input: 'to delete', max_output_tokens: 2 });
    await c.client.responses.delete(r.id);
    await expect(c.client.responses.retrieve(r.id)).rejects.toMatchObject({ status: 404 });
  });
});

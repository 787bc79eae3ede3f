import { startMockWorker } from '@drover/mock-worker';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { WorkerRegistryService } from '../../src/workers/worker-registry.service';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { testConfig } from '../support/config';
import { ADMIN } from '../support/auth';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

describe('gateway in front of a vLLM-speaking worker', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { protocol: 'vllm', decodeBaseMs: 2 } });
  });
  afterAll(async () => c?.close());

  it('detects the vLLM contract and serves the model it reports', async () => {
    const list = ((await (await fetch(`${c.gateway.url}/workers`, { headers: ADMIN })).json()) as { data: { protocol: string; model: string; health: string }[] }).data;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ protocol: 'vllm', model: 'qwen3-mock', health: 'ready' });
    expect((await c.client.models.list()).data.map((m) => m.id)).toEqual(['qwen3-mock']);
  });

  it('answers a non-streaming chat: max_tokens reaches the worker as vLLM max_tokens', async () => {
    const res = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Hello vLLM' }], max_tokens: 5, ...({ ignore_eos: true } as object) });
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.usage?.completion_tokens).toBe(5);
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
  });

  it('streams deltas, usage and [DONE]', async () => {
    const stream = await c.client.chat.completions.create({
      model: 'qwen3-mock',
      messages: [{ role: 'user', content: 'Stream from vLLM' }],
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
      ...({ ignore_eos: true } as object),
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(6);
  });

  it('the seed reaches the worker: same seed, same text; another seed, other text', async () => {
    const ask = (seed: number) =>
      c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'seeded' }], max_tokens: 12, seed, ...({ ignore_eos: true } as object) });
    const a = (await ask(7)).choices[0].message.content;
    expect((await ask(7)).choices[0].message.content).toBe(a);
    expect((await ask(8)).choices[0].message.content).not.toBe(a);
  });

  it('a client disconnecting mid-stream aborts the request on the vLLM worker', async () => {
    const worker = c.workers[0];
    const abortsBefore = worker.abortsReceived.length;
    const controller = new AbortController();
    const stream = await c.client.chat.completions.create(
      { model: 'qwen3-mock', messages: [{ role: 'user', content: 'a very long answer please' }], max_tokens: 5000, stream: true, ...({ ignore_eos: true } as object) },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const _ of stream) if (++chunks === 3) controller.abort();
    } catch {
      // the SDK ends the iteration or throws an abort error; either way the client is gone
    }
    expect(chunks).toBeGreaterThanOrEqual(3);
    await waitFor(() => worker.abortsReceived.length > abortsBefore, 5000, 'Abort RPC (request_ids) received');
    await waitFor(() => worker.engine.runningCount + worker.engine.waitingCount === 0, 5000, 'worker slot freed');
    await waitFor(() => c.gateway.app.get(WorkerRegistryService).list().every((w) => w.inFlight === 0), 5000, 'gateway in-flight back to 0');
  });
});

describe('one model served by an SGLang and a vLLM worker together', () => {
  let sglang: MockWorker;
  let vllm: MockWorker;
  let gw: RunningGateway;
  beforeAll(async () => {
    sglang = await startMockWorker({ port: 0, model: 'qwen3-mock', decodeBaseMs: 1 });
    vllm = await startMockWorker({ port: 0, model: 'qwen3-mock', protocol: 'vllm', decodeBaseMs: 1 });
    gw = await startGateway(testConfig({ workerUrls: [sglang.url, vllm.url], policy: 'round_robin' }));
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    await Promise.all([sglang?.close(), vllm?.close()]);
  });

  it('routes to both, each spoken to in its own contract', async () => {
    const protocols = gw.app.get(WorkerRegistryService).list().map((w) => w.protocol).sort();
    expect(protocols).toEqual(['sglang', 'vllm']);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'test', maxRetries: 0 });
    const before = [sglang.receivedMetadata.length, vllm.receivedMetadata.length];
    for (let i = 0; i < 4; i++) {
      const res = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `turn ${i}` }], max_tokens: 3, ...({ ignore_eos: true } as object) });
      expect(res.usage?.completion_tokens).toBe(3);
    }
    expect(sglang.receivedMetadata.length - before[0]).toBe(2);
    expect(vllm.receivedMetadata.length - before[1]).toBe(2);
  });
});

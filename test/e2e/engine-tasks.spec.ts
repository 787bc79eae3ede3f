import { startMockWorker } from '@drover/mock-worker';
import OpenAI, { APIError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

/** Model info's is_generation decides what a worker is asked for: Generate or Embed, never the other. */
describe.each(['sglang', 'vllm'] as const)('is_generation on the %s personality', (engine) => {
  let workers: MockWorker[] = [];
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    gateway = undefined;
  });

  it('chat goes only to the generation engine and embeddings only to the embedding engine; a model without the right engine is a 400', async () => {
    const gen = await startMockWorker({ port: 0, model: 'qwen3-mock', engine });
    const emb = await startMockWorker({ port: 0, model: 'qwen3-mock', engine, embedding: true });
    const embOnly = await startMockWorker({ port: 0, model: 'qwen3-embed', engine, embedding: true });
    workers = [gen, emb, embOnly];
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url), policy: 'round_robin' }));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });

    for (let i = 0; i < 4; i++) {
      const r = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `hello ${i}` }], max_tokens: 4 });
      expect(r.choices[0].message.content).toBeTruthy();
      const e = await client.embeddings.create({ model: 'qwen3-mock', input: `text ${i}` });
      expect(e.data[0].embedding.length).toBeGreaterThan(0);
    }
    expect(gen.receivedSampling).toHaveLength(4);
    expect(emb.receivedSampling).toHaveLength(0);
    expect(emb.embedsReceived).toHaveLength(4);
    expect(gen.embedsReceived).toHaveLength(0);

    const chatOnEmbedder = await client.chat.completions.create({ model: 'qwen3-embed', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }).catch((e: unknown) => e);
    expect(chatOnEmbedder).toBeInstanceOf(APIError);
    expect(chatOnEmbedder).toMatchObject({ status: 400, param: 'model' });
    const completionOnEmbedder = await client.completions.create({ model: 'qwen3-embed', prompt: 'hi', max_tokens: 4 }).catch((e: unknown) => e);
    expect(completionOnEmbedder).toMatchObject({ status: 400, param: 'model' });
    expect(embOnly.receivedSampling).toHaveLength(0);
  });

  it('embeddings for a model served only by generation engines are a 400, and never reach an engine', async () => {
    const gen = await startMockWorker({ port: 0, model: 'qwen3-mock', engine });
    workers = [gen];
    gateway = await startGateway(testConfig({ workerUrls: [gen.url] }));
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
    const err = await client.embeddings.create({ model: 'qwen3-mock', input: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ status: 400, param: 'model' });
    expect(gen.embedsReceived).toHaveLength(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { ADMIN } from '../support/auth';

describe('gateway: tokenize and detokenize', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1 });
  });
  afterAll(async () => c?.close());

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${c.gateway.url}${path}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('round-trips text through token ids', async () => {
    const text = 'Hello, Drover! Ünïcödé and 中文 and emoji 🚀.';
    const t = await post('/v1/tokenize', { model: 'qwen3-mock', prompt: text });
    expect(t.status).toBe(200);
    expect(t.body.count).toBe(t.body.tokens.length);
    expect(t.body.max_model_len).toBeGreaterThan(0);
    const d = await post('/v1/detokenize', { model: 'qwen3-mock', tokens: t.body.tokens });
    expect(d.status).toBe(200);
    expect(d.body.prompt).toBe(text);
  });

  it('tokenizes chat messages with the chat template', async () => {
    const t = await post('/v1/tokenize', { model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }] });
    const d = await post('/v1/detokenize', { tokens: t.body.tokens });
    expect(d.body.prompt).toContain('<|im_start|>user\nhi<|im_end|>');
    expect(d.body.prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('rejects bad input with 400', async () => {
    expect((await post('/v1/tokenize', { model: 'qwen3-mock' })).status).toBe(400);
    expect((await post('/v1/detokenize', { tokens: ['a'] })).status).toBe(400);
    expect((await post('/v1/detokenize', { tokens: [999_999_999] })).status).toBe(400);
    expect((await post('/v1/tokenize', { model: 'nope', prompt: 'x' })).status).toBe(404);
  });
});

describe('gateway: embeddings', () => {
  let c: TestCluster;
  beforeAll(async () => {
    // Embeddings go only to embedding engines (is_generation false).
    c = await startCluster({ workers: 1, worker: { embedding: true } });
  });
  afterAll(async () => c?.close());

  it('returns normalised vectors with usage for strings and token ids', async () => {
    const res = await c.client.embeddings.create({ model: 'qwen3-mock', input: ['hello world', 'goodbye'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[1].index).toBe(1);
    const v = res.data[0].embedding;
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(res.usage.prompt_tokens).toBeGreaterThan(2);
    const again = await c.client.embeddings.create({ model: 'qwen3-mock', input: 'hello world' });
    expect(again.data[0].embedding).toEqual(v);
    await expect(c.client.embeddings.create({ model: 'nope', input: 'x' })).rejects.toMatchObject({ status: 404 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { E2E_ENGINES } from '../support/engines';
import { ADMIN } from '../support/auth';

describe.each(E2E_ENGINES)('gateway: chat completions through the official openai SDK (%s engine)', (engine) => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 2, worker: { engine } });
  });
  afterAll(async () => c?.close());

  it('lists the model the workers report', async () => {
    const models = await c.client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['qwen3-mock']);
    expect(models.data[0].object).toBe('model');
  });

  it('answers a non-streaming chat in OpenAI shape with usage', async () => {
    const res = await c.client.chat.completions.create({
      model: 'qwen3-mock',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say something.' },
      ],
      max_tokens: 12,
    });
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('qwen3-mock');
    expect(typeof res.created).toBe('number');
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0].message.role).toBe('assistant');
    expect(res.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(res.choices[0].finish_reason);
    expect(res.usage?.prompt_tokens).toBeGreaterThan(5);
    expect(res.usage?.completion_tokens).toBeGreaterThan(0);
    expect(res.usage?.completion_tokens).toBeLessThanOrEqual(12);
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(0);
  });

  it('max_tokens ends with finish_reason length and exactly that many tokens', async () => {
    const res = await c.client.chat.completions.create({
      model: 'qwen3-mock',
      messages: [{ role: 'user', content: 'Write a long story.' }],
      max_tokens: 5,
      // the mock may emit eos; ignore_eos makes the length deterministic
      ...({ ignore_eos: true } as object),
    });
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.usage?.completion_tokens).toBe(5);
  });

  it('streams deltas, a finish reason, a usage chunk and [DONE]', async () => {
    const stream = await c.client.chat.completions.create({
      model: 'qwen3-mock',
      messages: [{ role: 'user', content: 'Stream please.' }],
      max_tokens: 8,
      stream: true,
      stream_options: { include_usage: true },
      ...({ ignore_eos: true } as object),
    });
    let text = '';
    let finish: string | null = null;
    let usage: { completion_tokens: number } | undefined;
    let first = true;
    const ids = new Set<string>();
    for await (const chunk of stream) {
      ids.add(chunk.id);
      expect(chunk.object).toBe('chat.completion.chunk');
      if (first) {
        expect(chunk.choices[0].delta.role).toBe('assistant');
        first = false;
      }
      if (chunk.choices[0]) {
        text += chunk.choices[0].delta.content ?? '';
        if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(ids.size).toBe(1);
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(8);
  });

  it('a seed reaches an engine that reads one (vLLM: same seed, same text); on the SGLang contract, which has none, it is a 400 naming the parameter', async () => {
    const received = () => c.workers.reduce((n, w) => n + w.receivedSampling.length, 0);
    const before = received();
    const ask = () => c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Same seed.' }], max_tokens: 10, seed: 7 });
    if (engine === 'vllm') {
      const [a, b] = await Promise.all([ask(), ask()]);
      expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
      expect(received()).toBe(before + 2);
      return;
    }
    const err = await ask().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, param: 'seed' });
    expect(received()).toBe(before);
  });

  it('echoes the x-request-id header, or generates one', async () => {
    const given = await fetch(`${c.gateway.url}/v1/models`, { headers: { ...ADMIN, 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const generated = await fetch(`${c.gateway.url}/v1/models`, { headers: ADMIN });
    expect(generated.headers.get('x-request-id')).toMatch(/^req-/);
  });

  it('completions: a token-id prompt may be longer than the prompt-count cap; more than 64 prompts is a 400', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => 1000 + i);
    const long = await c.client.completions.create({ model: 'qwen3-mock', prompt: ids, max_tokens: 2 });
    expect(long.usage?.prompt_tokens).toBe(200);
    const many = await c.client.completions.create({ model: 'qwen3-mock', prompt: Array(65).fill('hi'), max_tokens: 1 }).catch((e) => e);
    expect(many.status).toBe(400);
    expect(many.error.message).toMatch(/At most 64 prompts/);
  });
});
